namespace HetConv.Data;

/// <summary>
/// Labelled images held as bytes, [count, channels, height, width] in row-major order, one label byte per image.
/// Converted to float tensors batch by batch (see <see cref="BatchLoader"/>), so a whole split costs one byte per
/// pixel in memory.
/// </summary>
public sealed class ImageDataSet : IImageSource
{
    public ImageDataSet(string name, byte[] images, byte[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        long imageSize = (long)channels * height * width;
        if (images.LongLength != labels.LongLength * imageSize)
            throw new ArgumentException($"{labels.Length} labels need {labels.LongLength * imageSize} pixel bytes; got {images.LongLength}.", nameof(images));
        foreach (byte label in labels)
            if (label >= classNames.Count)
                throw new ArgumentException($"label {label} is outside 0..{classNames.Count - 1}.", nameof(labels));
        Name = name;
        Images = images;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    public string Name { get; }
    public byte[] Images { get; }
    public byte[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int ClassCount => ClassNames.Count;
    public int Count => Labels.Length;
    public int ImageSize => Channels * Height * Width;

    /// <summary>The first <paramref name="count"/> images (all of them when count is at least <see cref="Count"/>).</summary>
    public ImageDataSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count >= Count) return this;
        return new ImageDataSet(Name, Images[..(count * ImageSize)], Labels[..count], Channels, Height, Width, ClassNames);
    }

    IImageSource IImageSource.Take(int count) => Take(count);

    /// <summary>Of every image (<see cref="ChannelNormalization.Of"/>).</summary>
    public ChannelNormalization EstimateNormalization() => ChannelNormalization.Of(this);

    /// <summary>A <see cref="BatchLoader"/>, augmenting with <see cref="Augmentation.Standard"/>.</summary>
    public IBatchLoader Loader(int batchSize, ChannelNormalization normalization, bool augment) =>
        new BatchLoader(this, batchSize, normalization, augment ? Augmentation.Standard : null);

    public override string ToString() => $"{Name}: {Count} images {Channels}x{Height}x{Width}, {ClassCount} classes";
}
