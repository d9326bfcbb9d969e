namespace HetConv.Files;

/// <summary>
/// Writes a file so that readers (and a kill at any moment) see either the old content or the new, never a
/// mix: write a temporary file next to it, flush it to disk, then rename it over the target. A write that fails
/// (a full disk, a read-only directory) removes the temporary file, leaves the old content as it was, and is
/// reported as an <see cref="IOException"/> that names the file.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string temporary = path + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                using (var stream = WriteFault.Wrap(path, file))
                    write(stream);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // nothing more can be done where the file cannot be written in the first place
            }
            throw new IOException($"cannot write {path}: {e.Message}", e);
        }
    }

    public static void WriteText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });
}
