using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// How the NHWC kernels share a batch among threads and see it zero-padded, so that every tap of every pixel is in
/// bounds. With enough images, the batch is cut into groups of whole images (about <c>targetPixels</c> output
/// pixels each) shared out among workers, each padding a group into a buffer of its own just before using it:
/// the copy is spread over the threads and is still in cache when the taps read it. With fewer images (batch 1),
/// the whole input is padded once and the kernel shares out the pixels itself.
/// </summary>
internal static unsafe class PaddedImageGroups
{
    /// <summary>
    /// A group's padded images (or the input itself when there is no padding), where they start, and the piece of
    /// work they belong to (see <see cref="ForEachGroup"/>).
    /// </summary>
    public delegate void GroupWork(float* padded, int firstImage, int images, int piece, UpcomingInput upcoming);

    /// <summary>
    /// The unpadded input of the group a thread will pad next. Padding is a pure copy, which would wait on memory
    /// with nothing to compute meanwhile (up to a fifth of a 16-channel layer's time); a kernel that fetches a slice
    /// of the next group's input into the core's L2 cache per piece of its work overlaps that wait with its
    /// multiply-adds, and the copy then reads from cache.
    /// </summary>
    public readonly struct UpcomingInput(float* start, long floats)
    {
        public static UpcomingInput None => default;

        /// <summary>Fetches slice <paramref name="part"/> of <paramref name="parts"/> into L2 (no-op without an upcoming group).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Fetch(long part, long parts)
        {
            if (start == null || parts <= 0) return;
            long bytes = floats * sizeof(float);
            long from = bytes * part / parts & ~63L, to = Math.Min(bytes, bytes * (part + 1) / parts);
            for (long offset = from; offset < to; offset += 64) Sse.Prefetch1((byte*)start + offset);
        }
    }

    public static int PaddedHeight(ConvGeometry g) => g.Height + 2 * g.Padding;
    public static int PaddedWidth(ConvGeometry g) => g.Width + 2 * g.Padding;
    private static long PaddedImageLength(ConvGeometry g) => (long)PaddedHeight(g) * PaddedWidth(g) * g.InChannels;

    /// <summary>The centre tap's offset from an output pixel's corner (its top-left tap) in the padded input.</summary>
    public static long CentreTapOffset(ConvGeometry g) => ((long)(g.KernelSize / 2) * PaddedWidth(g) + g.KernelSize / 2) * g.InChannels;

    /// <summary>
    /// The offsets from a pixel's corner of every off-centre (tap, j) step, taps in row-major order: tap t's j-th KxK
    /// channel of the first filter of a block, P j (a block's n0 mod P is added by the kernel).
    /// </summary>
    public static long[] OffCentreStepOffsets(ConvGeometry g)
    {
        int k = g.KernelSize, centre = k / 2 * k + k / 2, j = g.KxkPerFilter;
        var steps = new long[g.OffCentreTaps * j];
        for (int t = 0, tap = 0; tap < k * k; tap++)
        {
            if (tap == centre) continue;
            long tapOffset = ((long)(tap / k) * PaddedWidth(g) + tap % k) * g.InChannels;
            for (int q = 0; q < j; q++) steps[t * j + q] = tapOffset + (long)g.Part * q;
            t++;
        }
        return steps;
    }

    /// <summary>
    /// The corners (top-left taps) of <paramref name="count"/> consecutive output pixels from <paramref name="start"/>
    /// on, in (image, row, column) order, in the padded images at <paramref name="padded"/>: one division for the
    /// first, steps for the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FindCorners(float* padded, ConvGeometry g, long start, int count, nint* corners)
    {
        int ox = (int)(start % g.OutWidth), rest = (int)(start / g.OutWidth);
        int oy = rest % g.OutHeight, image = rest / g.OutHeight;
        long pixelStep = (long)g.Stride * g.InChannels, rowStep = (long)g.Stride * PaddedWidth(g) * g.InChannels;
        long imageStep = PaddedImageLength(g);
        float* row = padded + image * imageStep + oy * rowStep;
        for (int i = 0; i < count; i++)
        {
            corners[i] = (nint)(row + ox * pixelStep);
            if (++ox == g.OutWidth)
            {
                ox = 0;
                row += rowStep;
                if (++oy == g.OutHeight) { oy = 0; row = padded + ++image * imageStep; }
            }
        }
    }

    /// <summary>Images per group, for groups of about <paramref name="targetPixels"/> output pixels.</summary>
    public static int ImagesPerGroup(ConvGeometry g, int targetPixels)
    {
        long imagePixels = (long)g.OutHeight * g.OutWidth;
        return (int)Math.Clamp((targetPixels + imagePixels - 1) / imagePixels, 1, g.Batch);
    }

    /// <summary>Whether there are groups enough to keep <paramref name="workers"/> threads busy.</summary>
    public static bool CanSplit(ConvGeometry g, int targetPixels, int workers)
    {
        int perGroup = ImagesPerGroup(g, targetPixels);
        return workers == 1 || (g.Batch + perGroup - 1) / perGroup >= 2 * workers;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on every group, on up to <paramref name="workers"/> threads, each taking the next
    /// piece as it becomes free (see <see cref="OpenMpTeam.ForEachPieceLookingAhead"/>). Without
    /// <paramref name="runs"/> a piece is one group; with it, the groups are cut into that many runs of consecutive
    /// groups. <c>work</c>'s piece argument is the piece's index: a kernel that sums per piece then adds in the same
    /// order whichever thread took it. Its last argument is the input the same thread pads next (see
    /// <see cref="UpcomingInput"/>).
    /// </summary>
    public static void ForEachGroup(float* input, ConvGeometry g, int targetPixels, int workers, int? runs, GroupWork work)
    {
        int perGroup = ImagesPerGroup(g, targetPixels), groups = (g.Batch + perGroup - 1) / perGroup;
        int pieces = runs is int r ? Math.Clamp(r, 1, groups) : groups;
        long imageLength = (long)g.Height * g.Width * g.InChannels;
        nint source = (nint)input;
        int FirstGroup(int piece) => (int)((long)groups * piece / pieces);
        UpcomingInput InputOf(int group) => g.Padding == 0 || group < 0 ? UpcomingInput.None
            : new UpcomingInput((float*)source + group * perGroup * imageLength, Math.Min(perGroup, g.Batch - group * perGroup) * imageLength);
        OpenMpTeam.ForEachPieceLookingAhead(pieces, workers, (piece, nextPiece) =>
        {
            // A thread's pooled buffer comes back to it for its next piece, still in its cache.
            float[]? buffer = g.Padding == 0 ? null : ArrayPool<float>.Shared.Rent(checked((int)(perGroup * PaddedImageLength(g))) + AlignedFloats.Slack);
            try
            {
                fixed (float* raw = buffer)
                {
                    float* padded = AlignedFloats.Align(raw);
                    for (int group = FirstGroup(piece); group < FirstGroup(piece + 1); group++)
                    {
                        int first = group * perGroup, count = Math.Min(perGroup, g.Batch - first);
                        float* images = (float*)source + first * imageLength;
                        if (buffer is not null)
                        {
                            Pad(images, padded, g with { Batch = count });
                            images = padded;
                        }
                        int upcoming = group + 1 < FirstGroup(piece + 1) ? group + 1 : nextPiece < 0 ? -1 : FirstGroup(nextPiece);
                        work(images, first, count, piece, InputOf(upcoming));
                    }
                }
            }
            finally
            {
                if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
            }
        });
    }

    /// <summary>
    /// The whole batch padded once (or the input itself when there is no padding), for kernels that share out
    /// the pixels of a few images among threads.
    /// </summary>
    public static void WithWholeBatch(float* input, ConvGeometry g, Action<nint> work)
    {
        if (g.Padding == 0) { work((nint)input); return; }
        var buffer = ArrayPool<float>.Shared.Rent(checked((int)(g.Batch * PaddedImageLength(g))) + AlignedFloats.Slack);
        try
        {
            fixed (float* raw = buffer)
            {
                float* padded = AlignedFloats.Align(raw);
                Pad(input, padded, g);
                work((nint)padded);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies NHWC input into the middle of a zeroed [B, H + 2p, W + 2p, M] buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad(float* input, float* padded, ConvGeometry g)
    {
        int m = g.InChannels, p = g.Padding, paddedHeight = PaddedHeight(g);
        long rowLength = (long)PaddedWidth(g) * m;
        for (int b = 0; b < g.Batch; b++)
        {
            float* image = padded + (long)b * paddedHeight * rowLength;
            new Span<float>(image, checked((int)(p * rowLength))).Clear();
            new Span<float>(image + (p + g.Height) * rowLength, checked((int)(p * rowLength))).Clear();
            for (int y = 0; y < g.Height; y++)
            {
                float* row = image + (p + y) * rowLength;
                new Span<float>(row, p * m).Clear();
                new Span<float>(row + (long)(p + g.Width) * m, p * m).Clear();
                Buffer.MemoryCopy(input + ((long)b * g.Height + y) * g.Width * m, row + (long)p * m,
                    (long)g.Width * m * sizeof(float), (long)g.Width * m * sizeof(float));
            }
        }
    }
}
