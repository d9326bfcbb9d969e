using HetConv.Data;

namespace HetConv.Cli;

/// <summary>Chooses a data set for a command: an unknown name is a usage error (a bad data file reports itself).</summary>
internal static class DataSetLoading
{
    /// <summary>The kind named (or "auto": detected from the directory's files).</summary>
    public static DataSetKind Kind(string name, string directory) => CliUsageException.Wrap(() => DataSets.Resolve(name, directory));

    /// <summary>A split: an image folder streamed with <paramref name="folder"/>'s settings, the others loaded whole.</summary>
    public static IImageSource Open(DataSetKind kind, string directory, DataSplit split, ImageFolderSettings folder) =>
        DataSets.Open(kind, directory, split, folder);

    /// <summary>A warning for the image files a scan left out (the run lists them in its skipped-images file).</summary>
    public static void WarnSkipped(IImageSource train, IImageSource test)
    {
        int count = train.Skipped.Concat(test.Skipped).DistinctBy(b => b.Path).Count();
        if (count > 0)
            Console.Error.WriteLine($"warning: {count} image file(s) cannot be decoded and are left out (--bad-images skip), e.g. {train.Skipped.Concat(test.Skipped).First()}");
    }
}
