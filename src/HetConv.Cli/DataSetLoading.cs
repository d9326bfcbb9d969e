using HetConv.Data;

namespace HetConv.Cli;

/// <summary>Chooses a data set for a command: an unknown name is a usage error (a bad data file reports itself).</summary>
internal static class DataSetLoading
{
    /// <summary>The kind named (or "auto": detected from the directory's files).</summary>
    public static DataSetKind Kind(string name, string directory) => CliUsageException.Wrap(() => DataSets.Resolve(name, directory));

    public static ImageDataSet Load(DataSetKind kind, string directory, DataSplit split) => DataSets.Load(kind, directory, split);
}
