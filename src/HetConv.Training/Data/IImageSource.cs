using static TorchSharp.torch;

namespace HetConv.Data;

/// <summary>
/// Labelled images as the trainer, the evaluator and <c>predict</c> see them: a count, a shape, class names, and
/// batches made on demand (<see cref="Loader"/>). An in-memory IDX/CIFAR set (<see cref="ImageDataSet"/>) and a
/// folder of image files decoded as they are needed (<see cref="ImageFolderSource"/>) are the two kinds.
/// </summary>
public interface IImageSource
{
    string Name { get; }
    int Count { get; }
    int Channels { get; }
    int Height { get; }
    int Width { get; }
    IReadOnlyList<string> ClassNames { get; }
    int ClassCount => ClassNames.Count;

    /// <summary>At most <paramref name="count"/> of the images (all of them when count is at least <see cref="Count"/>).</summary>
    IImageSource Take(int count);

    /// <summary>Per-channel mean and standard deviation in [0, 1] units, of the whole set or of a sample.</summary>
    ChannelNormalization EstimateNormalization();

    /// <summary>Batches of <paramref name="batchSize"/>; with <paramref name="augment"/>, training's augmentation.</summary>
    IBatchLoader Loader(int batchSize, ChannelNormalization normalization, bool augment);

    /// <summary>Images left out because they could not be read (path and reason), when the source skips them.</summary>
    IReadOnlyList<BadImage> Skipped => Array.Empty<BadImage>();
}

/// <summary>
/// Normalised float batches from an <see cref="IImageSource"/>. A batch's tensors are valid until the enumeration
/// moves on (they are refilled in place).
/// </summary>
public interface IBatchLoader : IDisposable
{
    int BatchSize { get; }

    /// <summary>Images in one pass (a source that skips unreadable images may yield fewer).</summary>
    int Count { get; }

    int BatchCount { get; }

    /// <summary>
    /// One pass over the data. With <paramref name="random"/>, the order is shuffled and (when the loader
    /// augments) each image augmented, all drawn from that generator; without it, the source's order.
    /// </summary>
    IEnumerable<(Tensor Inputs, Tensor Labels)> Batches(SeededRandom? random = null);
}

/// <summary>A file that could not be used as an image, and why.</summary>
public sealed record BadImage(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>What to do with an image file that cannot be decoded.</summary>
public enum BadImagePolicy
{
    /// <summary>Stop with an error naming the file.</summary>
    Fail,

    /// <summary>Leave it out, count it and list it in the run's outputs.</summary>
    Skip,
}
