using System.Collections.Concurrent;

namespace HetConv.Data;

/// <summary>How an image folder becomes batches: output size, bad files, decoding threads and prefetch depth.</summary>
public sealed record ImageFolderSettings
{
    public const int DefaultImageSize = 224;

    /// <summary>Images become size x size crops.</summary>
    public int ImageSize { get; init; } = DefaultImageSize;

    public BadImagePolicy BadImages { get; init; } = BadImagePolicy.Fail;

    /// <summary>Threads decoding images (default: one per CPU the process may use).</summary>
    public int Workers { get; init; } = DefaultWorkers;

    public static int DefaultWorkers => Environment.ProcessorCount;

    /// <summary>Batches decoded ahead of the one in use.</summary>
    public int Prefetch { get; init; } = 2;

    public void Validate()
    {
        if (ImageSize < 1) throw new ArgumentException($"the image size must be >= 1; got {ImageSize}.");
        if (Workers < 1) throw new ArgumentException($"workers must be >= 1; got {Workers}.");
        if (Prefetch < 1) throw new ArgumentException($"the prefetch depth must be >= 1; got {Prefetch}.");
    }
}

/// <summary>
/// A folder of image files (<see cref="ImageFolder"/>) as an <see cref="IImageSource"/>: only paths and labels in
/// memory, each image decoded when its batch is made (<see cref="ImageFolderLoader"/>), RGB at
/// <see cref="ImageFolderSettings.ImageSize"/> squared.
/// </summary>
public sealed class ImageFolderSource : IImageSource
{
    /// <summary>Images the normalisation is estimated from, spread evenly over the set.</summary>
    public const int NormalizationSample = 256;

    private readonly ConcurrentDictionary<string, string> skipped;

    private ImageFolderSource(ImageFolder.Listing listing, ImageFolderSettings settings, string[] files, int[] labels, ConcurrentDictionary<string, string> skipped)
    {
        Listing = listing;
        Settings = settings;
        Files = files;
        Labels = labels;
        this.skipped = skipped;
    }

    /// <summary>Scans the split of <paramref name="directory"/> (<see cref="ImageFolder.Scan"/>).</summary>
    public static ImageFolderSource Open(string directory, DataSplit split, ImageFolderSettings settings)
    {
        settings.Validate();
        var listing = ImageFolder.Scan(directory, split, settings.BadImages, settings.Workers);
        var skipped = new ConcurrentDictionary<string, string>(listing.Bad.ToDictionary(b => b.Path, b => b.Reason));
        return new ImageFolderSource(listing, settings, listing.Files, listing.Labels, skipped);
    }

    public ImageFolder.Listing Listing { get; }
    public ImageFolderSettings Settings { get; }
    public IReadOnlyList<string> Files { get; }
    public IReadOnlyList<int> Labels { get; }

    public string Name => $"image folder {Listing.Root}";
    public int Count => Files.Count;
    public int Channels => 3;
    public int Height => Settings.ImageSize;
    public int Width => Settings.ImageSize;
    public IReadOnlyList<string> ClassNames => Listing.ClassNames;

    public IReadOnlyList<BadImage> Skipped => skipped.Select(p => new BadImage(p.Key, p.Value)).OrderBy(b => b.Path, StringComparer.Ordinal).ToArray();

    /// <summary>Records an image found bad while decoding (under <see cref="BadImagePolicy.Skip"/>).</summary>
    internal void Skip(string path, string reason) => skipped.TryAdd(path, reason);

    /// <summary><paramref name="count"/> images spread evenly over the sorted list, so every class keeps its share.</summary>
    public IImageSource Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count >= Count) return this;
        var picked = Spread(count);
        return new ImageFolderSource(Listing, Settings, picked.Select(i => Files[i]).ToArray(), picked.Select(i => Labels[i]).ToArray(), skipped);
    }

    /// <summary>From the evaluation crops of up to <see cref="NormalizationSample"/> images spread over the set.</summary>
    public ChannelNormalization EstimateNormalization()
    {
        var sample = Spread(Math.Min(Count, NormalizationSample));
        int size = Settings.ImageSize, pixels = size * size;
        var sums = new double[sample.Length, 6];
        var read = new bool[sample.Length];
        Workers.For(sample.Length, Settings.Workers, k =>
        {
            var rgba = new byte[4 * pixels];
            if (!TryRead(Files[sample[k]], (w, h) => ImageCrops.Centre(w, h, size), rgba)) return;
            for (int p = 0; p < pixels; p++)
                for (int c = 0; c < 3; c++)
                {
                    double v = rgba[4 * p + c] / 255.0;
                    sums[k, c] += v;
                    sums[k, 3 + c] += v * v;
                }
            read[k] = true;
        });
        double n = (double)read.Count(r => r) * pixels;
        if (n == 0) throw new DataFormatException(Listing.Root, "none of the images sampled for the normalisation could be read.");
        var mean = new float[3];
        var std = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double s = 0, ss = 0;
            for (int k = 0; k < sample.Length; k++)
            {
                s += sums[k, c];
                ss += sums[k, 3 + c];
            }
            mean[c] = (float)(s / n);
            std[c] = (float)Math.Sqrt(Math.Max(ss / n - (s / n) * (s / n), 1e-12));
        }
        return new ChannelNormalization(mean, std);
    }

    public IBatchLoader Loader(int batchSize, ChannelNormalization normalization, bool augment) =>
        new ImageFolderLoader(this, batchSize, normalization, augment);

    /// <summary>
    /// Decodes one image into <paramref name="rgba"/>; false when it is bad and skipped (recorded), an exception
    /// naming it when bad images fail the run.
    /// </summary>
    internal bool TryRead(string path, Func<int, int, CropBox> choose, Span<byte> rgba)
    {
        try
        {
            ImageDecoder.Read(path, choose, Settings.ImageSize, Settings.ImageSize, rgba);
            return true;
        }
        catch (DataFormatException e) when (Settings.BadImages == BadImagePolicy.Skip)
        {
            Skip(path, e.Message[(path.Length + 2)..]);
            return false;
        }
        catch (DataFormatException e)
        {
            throw new DataFormatException(path, $"{e.Message[(path.Length + 2)..]} Remove it, or pass --bad-images skip to leave bad images out.", inner: e);
        }
    }

    private int[] Spread(int count) => Enumerable.Range(0, count).Select(i => (int)((long)i * Count / count)).ToArray();
}
