using System.Diagnostics;

namespace HetConv.Data;

/// <summary>One split of an image folder as scanned: classes with their image counts, sizes, and what was left out.</summary>
public sealed record ImageFolderSplitReport(string Split, string Root, IReadOnlyList<string> ClassNames, IReadOnlyList<int> ImagesPerClass,
    (int Width, int Height) Smallest, (int Width, int Height) Median, (int Width, int Height) Largest,
    IReadOnlyList<BadImage> Unreadable, IReadOnlyList<string> Ignored, double ScanSeconds);

/// <summary>An image folder's splits and, when timed, the training pipeline's speed alone (no model).</summary>
public sealed record ImageFolderReport(IReadOnlyList<ImageFolderSplitReport> Splits, ImageFolderSettings Settings, int BatchSize,
    int TimedImages, double ImagesPerSecond, double PeakResidentMegabytes);

/// <summary>What <c>hetconv data</c> reports: the folder as training would see it, and how fast it decodes.</summary>
public static class ImageFolderInspection
{
    /// <summary>
    /// Scans the folder's splits (bad images listed, not fatal) and, for <paramref name="timedImages"/> &gt; 0, runs
    /// the training pipeline (RandomResizedCrop, flips, normalisation, batches of <paramref name="batchSize"/>) over
    /// that many images, epoch after epoch if the folder is smaller, timing all batches but the first.
    /// </summary>
    public static ImageFolderReport Run(string directory, ImageFolderSettings settings, int timedImages, int batchSize = 64)
    {
        settings.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(timedImages);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var splits = new List<ImageFolderSplitReport>();
        ImageFolderSource? train = null;
        foreach (var split in new[] { DataSplit.Train, DataSplit.Test })
        {
            if (split == DataSplit.Test && ImageFolder.SplitRoot(directory, DataSplit.Train) == directory) break;
            var clock = Stopwatch.StartNew();
            var source = ImageFolderSource.Open(directory, split, settings);
            splits.Add(Describe(split == DataSplit.Train ? ImageFolder.TrainFolder : ImageFolder.ValFolder, source, clock.Elapsed.TotalSeconds));
            train ??= source;
        }

        int timed = 0;
        double seconds = 0;
        if (timedImages > 0)
        {
            var normalization = new ChannelNormalization(new[] { 0.485f, 0.456f, 0.406f }, new[] { 0.229f, 0.224f, 0.225f });
            using var loader = train!.Loader(batchSize, normalization, augment: true);
            var random = new SeededRandom(1);
            var clock = new Stopwatch();
            bool first = true;
            while (timed < timedImages)
            {
                foreach (var (inputs, _) in loader.Batches(random))
                {
                    if (first)
                    {
                        first = false;
                        clock.Start();
                        continue;
                    }
                    timed += (int)inputs.shape[0];
                    if (timed >= timedImages) break;
                }
            }
            seconds = clock.Elapsed.TotalSeconds;
        }
        double peak = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);
        return new ImageFolderReport(splits, settings, batchSize, timed, timed > 0 ? timed / seconds : double.NaN, peak);
    }

    private static ImageFolderSplitReport Describe(string split, ImageFolderSource source, double seconds)
    {
        var listing = source.Listing;
        var counts = new int[listing.ClassNames.Count];
        foreach (int label in listing.Labels) counts[label]++;
        var byArea = listing.Sizes.OrderBy(s => (long)s.Width * s.Height).ToArray();
        return new ImageFolderSplitReport(split, listing.Root, listing.ClassNames, counts, byArea[0], byArea[byArea.Length / 2], byArea[^1],
            listing.Bad, listing.Ignored, seconds);
    }
}
