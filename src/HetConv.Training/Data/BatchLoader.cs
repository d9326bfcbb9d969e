using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace HetConv.Data;

/// <summary>
/// Turns an <see cref="ImageDataSet"/> into normalised float batches. The input [batch, C, H, W] and label [batch]
/// tensors are allocated once and refilled in place for every batch, so an epoch allocates no batch memory; a
/// batch is valid until the enumeration moves on.
/// </summary>
public sealed class BatchLoader : IBatchLoader
{
    private readonly ImageDataSet data;
    private readonly Augmentation? augmentation;
    private readonly float[][] lookup;
    private readonly Tensor inputs;
    private readonly Tensor labels;
    private readonly int[] order;

    public BatchLoader(ImageDataSet data, int batchSize, ChannelNormalization normalization, Augmentation? augmentation = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (normalization.Mean.Length != data.Channels || normalization.Std.Length != data.Channels)
            throw new ArgumentException($"normalisation has {normalization.Mean.Length} channels; the data has {data.Channels}.", nameof(normalization));
        this.data = data;
        this.augmentation = augmentation;
        BatchSize = Math.Min(batchSize, data.Count);
        lookup = normalization.LookupTables();
        inputs = empty(BatchSize, data.Channels, data.Height, data.Width, ScalarType.Float32).DetachFromDisposeScope();
        labels = empty(new long[] { BatchSize }, ScalarType.Int64).DetachFromDisposeScope();
        order = Enumerable.Range(0, data.Count).ToArray();
    }

    public int BatchSize { get; }
    public int Count => data.Count;
    public int BatchCount => (data.Count + BatchSize - 1) / BatchSize;

    /// <summary>
    /// One pass over the data. With <paramref name="random"/>, the order is shuffled and (when the loader has an
    /// augmentation) each image is augmented, all drawn from that generator; without it, the data set's order.
    /// </summary>
    public IEnumerable<(Tensor Inputs, Tensor Labels)> Batches(SeededRandom? random = null)
    {
        // From the data set's order each time, so an epoch's order depends on the generator alone (and a
        // resumed run, which restores the generator, sees the same orders).
        for (int i = 0; i < order.Length; i++) order[i] = i;
        random?.Shuffle(order);
        for (int start = 0; start < data.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, data.Count - start);
            Fill(start, n, random);
            if (n == BatchSize)
            {
                yield return (inputs, labels);
            }
            else
            {
                using var x = inputs.narrow(0, 0, n);
                using var y = labels.narrow(0, 0, n);
                yield return (x, y);
            }
        }
    }

    private void Fill(int start, int n, SeededRandom? random)
    {
        var pixels = MemoryMarshal.Cast<byte, float>(inputs.bytes);
        var targets = MemoryMarshal.Cast<byte, long>(labels.bytes);
        int c = data.Channels, h = data.Height, w = data.Width, size = data.ImageSize;
        int pad = random is null || augmentation is null ? 0 : augmentation.CropPadding;
        for (int b = 0; b < n; b++)
        {
            int index = order[start + b];
            targets[b] = data.Labels[index];
            var source = data.Images.AsSpan(index * size, size);
            var target = pixels.Slice(b * size, size);
            int offsetY = 0, offsetX = 0;
            bool flip = false;
            if (pad > 0)
            {
                offsetY = random!.Next(2 * pad + 1) - pad;
                offsetX = random.Next(2 * pad + 1) - pad;
            }
            if (random is not null && augmentation is { HorizontalFlip: true })
                flip = random.Next(2) == 1;

            if (offsetY == 0 && offsetX == 0 && !flip)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    var table = lookup[ch];
                    int plane = ch * h * w;
                    for (int i = 0; i < h * w; i++) target[plane + i] = table[source[plane + i]];
                }
                continue;
            }
            for (int ch = 0; ch < c; ch++)
            {
                var table = lookup[ch];
                float black = table[0];
                int plane = ch * h * w;
                for (int y = 0; y < h; y++)
                {
                    int sy = y + offsetY;
                    var row = target.Slice(plane + y * w, w);
                    if (sy < 0 || sy >= h)
                    {
                        row.Fill(black);
                        continue;
                    }
                    var sourceRow = source.Slice(plane + sy * w, w);
                    for (int x = 0; x < w; x++)
                    {
                        int sx = (flip ? w - 1 - x : x) + offsetX;
                        row[x] = sx >= 0 && sx < w ? table[sourceRow[sx]] : black;
                    }
                }
            }
        }
    }

    public void Dispose()
    {
        inputs.Dispose();
        labels.Dispose();
    }
}
