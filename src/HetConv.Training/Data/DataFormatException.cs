namespace HetConv.Data;

/// <summary>
/// A data file that is missing, truncated or not what it claims to be. The message names the file, what was
/// expected and what was found, and how to fix it where there is a known fix.
/// </summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string path, string problem, string? hint = null, Exception? inner = null)
        : base(Compose(path, problem, hint), inner)
    {
        FilePath = path;
    }

    /// <summary>The file (or directory) the problem is in.</summary>
    public string FilePath { get; }

    private static string Compose(string path, string problem, string? hint) =>
        hint is null ? $"{path}: {problem}" : $"{path}: {problem} {hint}";
}
