using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// How the NHWC kernels share a batch among threads and see it zero-padded, so that every tap of every pixel is in
/// bounds. With enough images, the batch is cut into groups of whole images (about <c>targetPixels</c> output
/// pixels each) shared out among workers, each padding a group into a buffer of its own just before using it:
/// the copy is spread over the threads and is still in cache when the taps read it. An image whose padded copy
/// would crowd the core's L2 cache is cut into bands of output rows instead, each padded with the input rows it
/// reaches above and below. With fewer groups than threads (batch 1 of small images), the whole input is padded
/// once and the kernel shares out the pixels itself.
/// </summary>
internal static unsafe class PaddedImageGroups
{
    /// <summary>
    /// A group's padded input (or the input itself when there is no padding), the geometry of what it holds (whole
    /// images, or one band of rows seen as an image of that height), the index of its first output pixel in the
    /// batch, and the piece of work it belongs to (see <see cref="ForEachGroup"/>).
    /// </summary>
    public delegate void GroupWork(float* padded, ConvGeometry group, long firstPixel, int piece, UpcomingInput upcoming);

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
            if (!Sse.IsSupported) return;   // Arm64: no portable prefetch; the copy then reads from memory
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

    /// <summary>
    /// Padded images larger than this are cut into bands of rows of about equal height, at most
    /// <see cref="BandBytes"/> each, so that a band, the next group's input fetched alongside it and a block of
    /// weights fit a 512 KB L2 together. Measured side by side (forward, batch 16, bands of 256 KB): 64 channels at
    /// 56x56 (861 KB padded) 5-9% faster than whole images, 32 at 112x112 2-7%, 128 at 28x28 1-4%; VGG conv2 (64 at
    /// 32x32, 296 KB): forward the same, input gradient 3-4% slower, weight gradient 1-7% faster, so images of that
    /// size stay whole. Bands of at most 64 KB were slower than whole images (the rows above and below each band
    /// are copied twice).
    /// </summary>
    private const long BandAbove = 384 * 1024;

    private const long BandBytes = 256 * 1024;

    /// <summary>
    /// How a batch is cut into groups: <see cref="ImagesPerGroup"/> whole images each, or, when
    /// <see cref="BandRows"/> is above zero, bands of that many output rows of one image each.
    /// </summary>
    private readonly record struct Plan(ConvGeometry G, int ImagesPerGroup, int BandRows)
    {
        public int BandsPerImage => BandRows == 0 ? 1 : (G.OutHeight + BandRows - 1) / BandRows;
        public int Groups => BandRows == 0 ? (G.Batch + ImagesPerGroup - 1) / ImagesPerGroup : G.Batch * BandsPerImage;
        public long ImageLength => (long)G.Height * G.Width * G.InChannels;

        /// <summary>Floats a padded group takes.</summary>
        public long PaddedLength => BandRows == 0 ? ImagesPerGroup * PaddedImageLength(G)
            : (long)(BandRows + 2 * G.Padding) * PaddedWidth(G) * G.InChannels;

        /// <summary>
        /// Group <paramref name="group"/>: its geometry, its first output pixel, the image it starts in, the band's
        /// first output row (0 for whole images), and the unpadded input it reads (offset and length, in floats).
        /// </summary>
        public (ConvGeometry Geometry, long FirstPixel, int Image, int FirstRow, long InputOffset, long InputLength) Describe(int group)
        {
            long imagePixels = (long)G.OutHeight * G.OutWidth, rowLength = (long)G.Width * G.InChannels;
            if (BandRows == 0)
            {
                int first = group * ImagesPerGroup, count = Math.Min(ImagesPerGroup, G.Batch - first);
                return (G with { Batch = count }, first * imagePixels, first, 0, first * ImageLength, count * ImageLength);
            }
            int image = group / BandsPerImage, firstRow = group % BandsPerImage * BandRows;
            int rows = Math.Min(BandRows, G.OutHeight - firstRow);
            // The rows a band reaches above and below, as far as the image has them.
            int top = Math.Max(0, firstRow - G.Padding), bottom = Math.Min(G.Height, firstRow + rows + G.Padding);
            return (G with { Batch = 1, Height = rows }, image * imagePixels + (long)firstRow * G.OutWidth, image, firstRow,
                image * ImageLength + top * rowLength, (bottom - top) * rowLength);
        }

        /// <summary>The unpadded input group <paramref name="group"/> reads, for fetching ahead.</summary>
        public UpcomingInput InputOf(float* input, int group)
        {
            if (G.Padding == 0 || group < 0) return UpcomingInput.None;
            var (_, _, _, _, offset, length) = Describe(group);
            return new UpcomingInput(input + offset, length);
        }
    }

    private static Plan PlanFor(ConvGeometry g, int targetPixels)
    {
        long imagePixels = (long)g.OutHeight * g.OutWidth;
        int images = (int)Math.Clamp((targetPixels + imagePixels - 1) / imagePixels, 1, g.Batch);
        // Bands need every output row to read the same rows around its own (stride 1, "same" padding).
        bool banded = g.Padding > 0 && g.Stride == 1 && 2 * g.Padding == g.KernelSize - 1
                      && PaddedImageLength(g) * sizeof(float) > BandAbove;
        if (!banded) return new Plan(g, images, 0);
        long paddedRowBytes = (long)PaddedWidth(g) * g.InChannels * sizeof(float);
        int most = (int)Math.Clamp(BandBytes / paddedRowBytes - 2 * g.Padding, 1, g.OutHeight);
        int bands = (g.OutHeight + most - 1) / most;
        return new Plan(g, 1, (g.OutHeight + bands - 1) / bands);
    }

    /// <summary>Whether there are groups enough to keep <paramref name="workers"/> threads busy.</summary>
    public static bool CanSplit(ConvGeometry g, int targetPixels, int workers) =>
        workers == 1 || PlanFor(g, targetPixels).Groups >= 2 * workers;

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
        var plan = PlanFor(g, targetPixels);
        int groups = plan.Groups;
        int pieces = runs is int r ? Math.Clamp(r, 1, groups) : groups;
        nint source = (nint)input;
        int FirstGroup(int piece) => (int)((long)groups * piece / pieces);
        OpenMpTeam.ForEachPieceLookingAhead(pieces, workers, (piece, nextPiece) =>
        {
            // A thread's pooled buffer comes back to it for its next piece, still in its cache.
            float[]? buffer = g.Padding == 0 ? null : ArrayPool<float>.Shared.Rent(checked((int)plan.PaddedLength) + AlignedFloats.Slack);
            try
            {
                fixed (float* raw = buffer)
                {
                    float* padded = AlignedFloats.Align(raw);
                    for (int group = FirstGroup(piece); group < FirstGroup(piece + 1); group++)
                    {
                        var (geometry, firstPixel, image, firstRow, _, _) = plan.Describe(group);
                        float* images = (float*)source + image * plan.ImageLength;
                        if (buffer is not null)
                        {
                            if (plan.BandRows == 0) Pad(images, padded, geometry);
                            else PadRows(images, padded, g, firstRow - g.Padding, geometry.OutHeight + 2 * g.Padding);
                            images = padded;
                        }
                        int upcoming = group + 1 < FirstGroup(piece + 1) ? group + 1 : nextPiece < 0 ? -1 : FirstGroup(nextPiece);
                        work(images, geometry, firstPixel, piece, plan.InputOf((float*)source, upcoming));
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
    private static void Pad(float* input, float* padded, ConvGeometry g)
    {
        long imageLength = (long)g.Height * g.Width * g.InChannels;
        for (int b = 0; b < g.Batch; b++)
            PadRows(input + b * imageLength, padded + b * PaddedImageLength(g), g, -g.Padding, PaddedHeight(g));
    }

    /// <summary>
    /// Writes <paramref name="count"/> padded rows, for input rows <paramref name="first"/> on of one NHWC image
    /// (rows outside the image, and p columns either side, as zeros), to <paramref name="padded"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PadRows(float* image, float* padded, ConvGeometry g, int first, int count)
    {
        int m = g.InChannels, p = g.Padding;
        long rowLength = (long)PaddedWidth(g) * m, inputRow = (long)g.Width * m;
        for (int i = 0; i < count; i++)
        {
            int y = first + i;
            float* row = padded + i * rowLength;
            if (y < 0 || y >= g.Height)
            {
                new Span<float>(row, checked((int)rowLength)).Clear();
                continue;
            }
            new Span<float>(row, p * m).Clear();
            new Span<float>(row + (long)(p + g.Width) * m, p * m).Clear();
            Buffer.MemoryCopy(image + y * inputRow, row + (long)p * m, inputRow * sizeof(float), inputRow * sizeof(float));
        }
    }
}
