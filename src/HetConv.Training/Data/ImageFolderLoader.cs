using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using static TorchSharp.torch;

namespace HetConv.Data;

/// <summary>
/// Batches from an <see cref="ImageFolderSource"/>, decoded on <see cref="ImageFolderSettings.Workers"/> threads
/// while the caller trains on the batch before: a producer fills up to <see cref="ImageFolderSettings.Prefetch"/>
/// batches ahead into a ring of preallocated tensors, so memory stays the same whatever the folder's size.
/// Training draws, on the caller's thread, the epoch's order and one seed per image from the given generator; each
/// image's crop box and flip come from its own seed, so batches are the same whichever thread decodes what, and a
/// resumed run sees the same images as an uninterrupted one. Augmented: TorchVision's RandomResizedCrop and a flip
/// with probability 1/2; otherwise resize and centre crop (<see cref="ImageCrops"/>).
/// </summary>
public sealed class ImageFolderLoader : IBatchLoader
{
    private readonly ImageFolderSource source;
    private readonly bool augment;
    private readonly float[][] lookup;
    private readonly Slot[] slots;

    // One RGBA buffer per decoding thread, reused from image to image.
    private readonly ThreadLocal<byte[]> buffers;

    public ImageFolderLoader(ImageFolderSource source, int batchSize, ChannelNormalization normalization, bool augment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (normalization.Mean.Length != 3 || normalization.Std.Length != 3)
            throw new ArgumentException($"normalisation has {normalization.Mean.Length} channels; image folders give 3.", nameof(normalization));
        this.source = source;
        this.augment = augment;
        BatchSize = Math.Min(batchSize, source.Count);
        lookup = normalization.LookupTables();
        buffers = new ThreadLocal<byte[]>(() => new byte[4 * source.Height * source.Width]);
        slots = Enumerable.Range(0, source.Settings.Prefetch + 1).Select(_ => new Slot(BatchSize, source.Height)).ToArray();
    }

    public int BatchSize { get; }
    public int Count => source.Count;
    public int BatchCount => (source.Count + BatchSize - 1) / BatchSize;

    public IEnumerable<(Tensor Inputs, Tensor Labels)> Batches(SeededRandom? random = null)
    {
        var order = Enumerable.Range(0, source.Count).ToArray();
        random?.Shuffle(order);
        ulong[]? seeds = augment && random is not null ? Enumerable.Range(0, order.Length).Select(_ => random.NextUInt64()).ToArray() : null;

        using var free = new BlockingCollection<Slot>();
        using var ready = new BlockingCollection<Slot>();
        foreach (var slot in slots) free.Add(slot);
        using var stop = new CancellationTokenSource();
        ExceptionDispatchInfo? fault = null;
        var producer = Task.Run(() =>
        {
            try
            {
                for (int start = 0; start < order.Length; start += BatchSize)
                {
                    var slot = free.Take(stop.Token);
                    Fill(slot, order, seeds, start, Math.Min(BatchSize, order.Length - start), stop.Token);
                    ready.Add(slot);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                fault = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                ready.CompleteAdding();
            }
        });
        try
        {
            foreach (var slot in ready.GetConsumingEnumerable())
            {
                if (slot.Count == BatchSize)
                {
                    yield return (slot.Inputs, slot.Labels);
                }
                else if (slot.Count > 0)
                {
                    using var x = slot.Inputs.narrow(0, 0, slot.Count);
                    using var y = slot.Labels.narrow(0, 0, slot.Count);
                    yield return (x, y);
                }
                free.Add(slot);
            }
            fault?.Throw();
        }
        finally
        {
            // An enumeration left early (a stop, an error in the step) ends the producer before the slots go.
            stop.Cancel();
            try
            {
                producer.Wait();
            }
            catch (AggregateException)
            {
            }
        }
    }

    /// <summary>Decodes images order[start..start+n) into the slot; bad images skipped close up the batch.</summary>
    private unsafe void Fill(Slot slot, int[] order, ulong[]? seeds, int start, int n, CancellationToken stop)
    {
        int size = source.Height, imageFloats = 3 * size * size;
        // The tensors' memory is native (it never moves), so the addresses hold outside the fixed statements.
        float* pixels;
        long* targets;
        fixed (byte* p = slot.Inputs.bytes) pixels = (float*)p;
        fixed (byte* p = slot.Labels.bytes) targets = (long*)p;
        var ok = new bool[n];
        Workers.For(n, source.Settings.Workers, b =>
        {
            var rgba = buffers.Value!;
            int index = order[start + b];
            var random = seeds is null ? null : new SeededRandom((long)seeds[start + b]);
            Func<int, int, CropBox> choose = random is null ? (w, h) => ImageCrops.Centre(w, h, size) : (w, h) => ImageCrops.RandomResized(w, h, random);
            if (!source.TryRead(source.Files[index], choose, rgba)) return;
            bool flip = random is not null && random.Next(2) == 1;
            ImageDecoder.ToPlanes(rgba, size, size, 3, lookup, flip, new Span<float>(pixels + (long)b * imageFloats, imageFloats));
            targets[b] = source.Labels[index];
            ok[b] = true;
        }, stop);
        int kept = 0;
        for (int b = 0; b < n; b++)
        {
            if (!ok[b]) continue;
            if (kept != b)
            {
                new Span<float>(pixels + (long)b * imageFloats, imageFloats).CopyTo(new Span<float>(pixels + (long)kept * imageFloats, imageFloats));
                targets[kept] = targets[b];
            }
            kept++;
        }
        slot.Count = kept;
    }

    public void Dispose()
    {
        foreach (var slot in slots) slot.Dispose();
        buffers.Dispose();
    }

    /// <summary>One batch's preallocated tensors and how many images they hold.</summary>
    private sealed class Slot(int batchSize, int size) : IDisposable
    {
        public Tensor Inputs { get; } = empty(batchSize, 3, size, size, ScalarType.Float32).DetachFromDisposeScope();
        public Tensor Labels { get; } = empty(new long[] { batchSize }, ScalarType.Int64).DetachFromDisposeScope();
        public int Count { get; set; }

        public void Dispose()
        {
            Inputs.Dispose();
            Labels.Dispose();
        }
    }
}
