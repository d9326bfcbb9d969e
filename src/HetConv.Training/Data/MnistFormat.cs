namespace HetConv.Data;

/// <summary>
/// A directory in MNIST's layout: <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
/// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each raw or with <c>.gz</c>. Ten classes, 1 channel.
/// </summary>
public static class MnistFormat
{
    public const int ClassCount = 10;

    public static ImageDataSet Load(string directory, DataSplit split, string name, IReadOnlyList<string> classNames, string? missingHint = null)
    {
        DataFile.RequireDirectory(directory, "MNIST-format directory (IDX files, raw or .gz)");
        string prefix = Prefix(split);
        string imagesPath = Locate(directory, $"{prefix}-images-idx3-ubyte", missingHint);
        string labelsPath = Locate(directory, $"{prefix}-labels-idx1-ubyte", missingHint);
        var images = IdxFile.ReadImages(imagesPath);
        var labels = IdxFile.ReadLabels(labelsPath);
        int count = images.Dimensions[0];
        if (labels.Dimensions[0] != count)
            throw new DataFormatException(labelsPath, $"holds {labels.Dimensions[0]} labels, but {Path.GetFileName(imagesPath)} holds {count} images; the two files must match.");
        for (int i = 0; i < labels.Data.Length; i++)
            if (labels.Data[i] >= classNames.Count)
                throw new DataFormatException(labelsPath, $"label {i} is {labels.Data[i]}; expected a class in 0..{classNames.Count - 1}.");
        RequireSameSizeAsOtherSplit(directory, split, imagesPath, images.Dimensions);
        return new ImageDataSet(name, images.Data, labels.Data, 1, images.Dimensions[1], images.Dimensions[2], classNames);
    }

    private static string Prefix(DataSplit split) => split == DataSplit.Train ? "train" : "t10k";

    /// <summary>
    /// A model trained on one image size cannot be tested on another, so the two splits must agree. Only the other
    /// split's header is read; a missing or damaged other split is left for its own load to report.
    /// </summary>
    private static void RequireSameSizeAsOtherSplit(string directory, DataSplit split, string imagesPath, int[] dimensions)
    {
        int[] other;
        string otherPath;
        try
        {
            otherPath = Locate(directory, $"{Prefix(split == DataSplit.Train ? DataSplit.Test : DataSplit.Train)}-images-idx3-ubyte", null);
            other = IdxFile.ReadDimensions(otherPath, IdxFile.ImagesMagic, "images");
        }
        catch (DataFormatException)
        {
            return;
        }
        if (other[1] != dimensions[1] || other[2] != dimensions[2])
            throw new DataFormatException(imagesPath,
                $"holds {dimensions[1]}x{dimensions[2]} images, but {otherPath} holds {other[1]}x{other[2]}; the training and test splits must have one image size.");
    }

    /// <summary>The file of that name in the directory, raw or gzip-compressed; a missing one names both forms.</summary>
    private static string Locate(string directory, string fileName, string? missingHint)
    {
        string raw = Path.Combine(directory, fileName);
        if (DataFile.Present(raw)) return raw;
        if (DataFile.Present(raw + ".gz")) return raw + ".gz";
        // MNIST's own archives unpack to names with a dot before "idx".
        string dotted = Path.Combine(directory, fileName.Replace("-idx", ".idx", StringComparison.Ordinal));
        if (DataFile.Present(dotted)) return dotted;
        string where = Directory.Exists(directory) ? $"{fileName} or {fileName}.gz is missing" : "the directory does not exist";
        throw new DataFormatException(raw, $"{where}; expected an MNIST-format directory (IDX files, raw or .gz).", missingHint);
    }
}
