namespace HetConv.Training;

/// <summary>
/// A training run's directory: its default name, claiming it for a new run, and finding the run to resume.
/// A new run claims its directory before writing anything by creating <see cref="MarkerFile"/> with
/// <see cref="FileMode.CreateNew"/>, which succeeds for one process only, so two runs started into the same
/// directory cannot both write there, and a directory that ever held a run is never started over.
/// </summary>
public static class RunDirectory
{
    /// <summary>Created when the run starts; holds when and by which process.</summary>
    public const string MarkerFile = "run.claim";

    /// <summary>runs/&lt;model&gt;-&lt;conv&gt;-&lt;dataset&gt;-&lt;time&gt;, e.g. runs/resnet20-P4-fashion-mnist-20260101-120000.</summary>
    public static string DefaultPath(TrainingOptions options, DateTime time) =>
        Path.Combine("runs", $"{options.Model}-{Trainer.ConvDescription(options)}-{options.DataSet}-{time:yyyyMMdd-HHmmss}");

    /// <summary>Whether <paramref name="directory"/> holds a run (started, or with checkpoints of an older build).</summary>
    public static bool HoldsRun(string directory) =>
        File.Exists(Path.Combine(directory, MarkerFile)) || File.Exists(Path.Combine(directory, Trainer.LastCheckpoint))
        || File.Exists(Path.Combine(directory, Trainer.ConfigFile));

    /// <summary>
    /// Creates <paramref name="directory"/> if need be and claims it for a new run; a
    /// <see cref="RunDirectoryException"/> when it holds a run already or cannot be written.
    /// </summary>
    public static void Claim(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw new RunDirectoryException(directory, "the run directory's name is empty; give a directory.");
        if (File.Exists(directory))
            throw new RunDirectoryException(directory, "is a file, not a directory; give a new directory for the run.");
        if (HoldsRun(directory))
            throw new RunDirectoryException(directory, "already holds a run; resume it or choose another directory.", inUse: true);
        try
        {
            Directory.CreateDirectory(directory);
            using var marker = new FileStream(Path.Combine(directory, MarkerFile), FileMode.CreateNew, FileAccess.Write);
            using var writer = new StreamWriter(marker);
            writer.Write($"started {DateTime.UtcNow:O} by process {Environment.ProcessId}\n");
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, MarkerFile)))
        {
            throw new RunDirectoryException(directory, "already holds a run (started just now by another process); choose another directory.", inUse: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new RunDirectoryException(directory, $"cannot be created or written: {e.Message}");
        }
    }

    /// <summary>
    /// The run directory <paramref name="path"/> names for a resume: the directory itself, or the one holding it
    /// when it is the run's last checkpoint; a <see cref="RunDirectoryException"/> saying what to do otherwise.
    /// </summary>
    public static string ForResume(string path)
    {
        if (File.Exists(path))
        {
            string parent = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (Path.GetFileName(path) == Trainer.LastCheckpoint)
                return parent;
            throw new RunDirectoryException(path, $"is a file; resume takes the run's directory, e.g. {parent}.");
        }
        if (!Directory.Exists(path))
            throw new RunDirectoryException(path, "no such run directory.");
        if (!File.Exists(Path.Combine(path, Trainer.LastCheckpoint)))
            throw new RunDirectoryException(path, File.Exists(Path.Combine(path, MarkerFile))
                ? "holds a run that stopped before its first epoch finished, so there is no checkpoint to resume from; delete the directory and start the run again."
                : $"holds no checkpoint to resume from ({Trainer.LastCheckpoint} is missing).");
        return path;
    }
}

/// <summary>A run directory that cannot be used as asked; the message names it and what to do.</summary>
public sealed class RunDirectoryException(string directory, string problem, bool inUse = false)
    : IOException($"{(directory.Length == 0 ? "\"\"" : directory)}: {problem}")
{
    public string Directory { get; } = directory;

    /// <summary>It holds a run already (rather than being unusable).</summary>
    public bool InUse { get; } = inUse;
}
