using HetConv.Data;

namespace HetConv.Cli;

/// <summary>Loads a data set for a command, turning data-format problems into one-line usage errors.</summary>
internal static class DataSetLoading
{
    /// <summary>The kind named (or "auto": detected from the directory's files).</summary>
    public static DataSetKind Kind(string name, string directory)
    {
        try
        {
            return name.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) ? DataSets.Detect(directory) : DataSets.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message, e);
        }
    }

    public static ImageDataSet Load(DataSetKind kind, string directory, DataSplit split)
    {
        try
        {
            return DataSets.Load(kind, directory, split);
        }
        catch (DataFormatException e)
        {
            throw new CliUsageException(e.Message, e);
        }
    }
}
