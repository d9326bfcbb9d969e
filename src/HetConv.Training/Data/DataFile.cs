using System.Runtime.InteropServices;

namespace HetConv.Data;

/// <summary>
/// Opens data files for reading, and says clearly why one cannot be: missing, unreadable, a directory, a symbolic
/// link loop, or not a regular file at all. The type is checked before opening because opening a FIFO for
/// reading waits, without end, for a writer.
/// </summary>
public static class DataFile
{
    /// <summary>True when something is at the path, including a dangling or looping symbolic link.</summary>
    public static bool Present(string path) => Path.Exists(path) || new FileInfo(path).LinkTarget is not null;

    /// <summary>Opens a regular file for reading; <paramref name="what"/> names what it should hold (e.g. "IDX images file").</summary>
    public static FileStream OpenRead(string path, string what)
    {
        RequireRegularFile(path, what);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataFormatException(path, "cannot be read: permission denied; make it readable (chmod a+r) or run as its owner.", inner: e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataFormatException(path, $"the {what} does not exist.", inner: e);
        }
        catch (IOException e)
        {
            throw new DataFormatException(path, $"cannot be opened: {e.Message}", inner: e);
        }
    }

    /// <summary>A directory to read data from: a file or a missing path in its place is reported as such.</summary>
    public static void RequireDirectory(string path, string what)
    {
        if (Directory.Exists(path)) return;
        if (Present(path))
            throw new DataFormatException(path, $"is a file, not a directory; it should be the {what}.");
    }

    private static void RequireRegularFile(string path, string what)
    {
        switch (FileType(path, out int error))
        {
            case Kind.Regular:
                return;
            case Kind.Directory:
                throw new DataFormatException(path, $"is a directory; it should be the {what}.");
            case Kind.Other:
                throw new DataFormatException(path, $"is not a regular file (a FIFO, socket or device); it should be the {what}. Copy the data into a regular file.");
        }
        throw error switch
        {
            ENOENT => new DataFormatException(path, $"the {what} does not exist."),
            ELOOP => new DataFormatException(path, $"is a symbolic link loop (or a chain of too many links); point it at the {what}."),
            EACCES => new DataFormatException(path, "cannot be read: permission denied on the file or a directory above it."),
            ENOTDIR => new DataFormatException(path, "a part of the path is a file, not a directory."),
            _ => new DataFormatException(path, $"cannot be examined: {Marshal.GetPInvokeErrorMessage(error)}."),
        };
    }

    private enum Kind { Regular, Directory, Other, Unknown }

    private const int ENOENT = 2, EACCES = 13, ENOTDIR = 20, ELOOP = 40;

    /// <summary>The file's type (following symbolic links), or Unknown with the errno.</summary>
    private static Kind FileType(string path, out int error)
    {
        error = 0;
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere without the type check: File.Exists is false for directories, FIFOs are rare.
            if (Directory.Exists(path)) return Kind.Directory;
            error = ENOENT;
            return File.Exists(path) ? Kind.Regular : Kind.Unknown;
        }
        // statx's buffer has one layout on every Linux architecture (unlike struct stat); stx_mode is at byte 28.
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtCurrentDirectory, path, 0, StatxType, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            error = Marshal.GetLastPInvokeError();
            return Kind.Unknown;
        }
        int type = BitConverter.ToUInt16(buffer[28..]) & 0xF000;
        return type switch { 0x8000 => Kind.Regular, 0x4000 => Kind.Directory, _ => Kind.Other };
    }

    private const int AtCurrentDirectory = -100;
    private const uint StatxType = 1;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref byte buffer);
}
