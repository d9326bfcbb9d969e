namespace HetConv.Files;

/// <summary>
/// Checks, before any work, that results can be written under a directory: the path is not empty, no file stands
/// where a directory is wanted, and the nearest existing directory takes a new file (a read-only mount, /proc or a
/// directory without write permission does not). Nothing is created; a probe file is made and removed at once.
/// </summary>
public static class OutputDirectory
{
    /// <summary>The full path of a directory results can be written to; otherwise an <see cref="IOException"/> saying why.</summary>
    public static string Check(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new IOException("the output directory is an empty path; name a directory.");
        string full = Path.GetFullPath(path);
        string existing = full;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing) || new FileInfo(existing).LinkTarget is not null)
                throw new IOException(existing == full
                    ? $"{full} is a file, not a directory; choose another output directory."
                    : $"{full} cannot be a directory: {existing} is a file; choose another output directory.");
            existing = Path.GetDirectoryName(existing) ?? throw new IOException($"{full} has no existing directory above it.");
        }
        string probe = Path.Combine(existing, $".hetconv-write-test-{Environment.ProcessId}");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e is UnauthorizedAccessException ? "permission denied" : e.Message.Split(" : ")[0];
            throw new IOException($"{full} cannot be written: no new file can be made in {existing} ({reason}); choose another output directory.", e);
        }
        return full;
    }

    /// <summary>The full path of a file that can be written (its directory checked as above, nothing created).</summary>
    public static string CheckFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new IOException("the output file is an empty path; name a file.");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"{full} is a directory; name a file.");
        Check(Path.GetDirectoryName(full)!);
        return full;
    }
}
