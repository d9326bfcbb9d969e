using System.Runtime.CompilerServices;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// HetConv forward pass in one sweep over NHWC data, counting only the paper's multiply-adds: per output pixel and
/// filter, M for the centre tap (every 1x1 kernel and the KxK kernels' centres, one dense 1x1 product) plus
/// (K^2 - 1) M/P for the KxK kernels' other taps. Written once over a vector width (<see cref="IVectorOps{TVector}"/>,
/// chosen by <see cref="KernelIsa"/>): a register tile (<see cref="ITile{TV}"/>) is 6 output pixels (12 with AVX-512) by two
/// vectors of filters (16 filters with AVX2, 32 with AVX-512, 8 with 128-bit vectors), the pixels consecutive in
/// (image, row, column) order; chunks of pixels times columns of filters are spread over threads.
/// </summary>
/// <remarks>
/// The input is first copied into a zero-padded buffer, so every tap of every pixel is in bounds: a tap is one
/// fixed offset from a pixel's corner and all (K^2 - 1) M/P off-centre steps run as one flat loop over a table of
/// offsets, with no bounds checks and no per-tap set-up. That keeps small layers (16 or 32 channels, whose per-tap
/// loops would be a few steps long) busy with multiply-adds.
/// Packed weights (see <see cref="PackedHetConvWeights"/>): centre [blocks][M][16], off-centre [blocks][taps][M/P][16],
/// bias [blocks*16], the same at every width: a vector of fewer than 16 lanes reads part of a block, AVX-512's two
/// vectors read two blocks. Supported parts: 1, 2, 4, 8 and multiples of 16 (see <see cref="ILaneLoad"/>).
/// Every method a kernel runs through is compiled fully optimized from its first call
/// (<see cref="MethodImplOptions.AggressiveOptimization"/>): under tiered compilation the first few dozen calls of a
/// layer would otherwise run unoptimized loops, which showed as a 35% slower first layer in benchmarks.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class HetConvNhwcKernel
{
    // Work distribution: runs of items per thread when the batch is padded whole (few images).
    private const int RunsPerWorker = 4;

    public static bool IsSupportedOnThisMachine => KernelIsa.KernelsAvailable;

    public static bool SupportsPart(int part) => LaneLoads.SupportsPart(part);

    private const int ChunkPixels = 48;

    /// <summary>The forward pass at the width <see cref="KernelIsa"/> chooses now.</summary>
    public static void Forward(float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads, OutputEpilogue epilogue) =>
        Forward(KernelIsa.Current, input, output, centre, offCentre, bias, g, threads, epilogue);

    public static void Forward(VectorWidth width, float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads, OutputEpilogue epilogue) =>
        KernelDispatch.Run<Pass, Args>(width, g.Part, g.OutChannels,
            new Args(input, output, centre, offCentre, bias, g, PaddedImageGroups.CentreTapOffset(g), epilogue, threads));

    private readonly struct Pass : IKernelPass<Args>
    {
        public static void Run<TOps, TV, TLoad, TTile>(in Args a)
            where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV> =>
            HetConvNhwcKernel.Run<TOps, TV, TLoad, TTile>(a);
    }

    private static void Run<TOps, TV, TLoad, TTile>(Args shape)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>
    {
        var g = shape.G;
        var steps = PaddedImageGroups.OffCentreStepOffsets(g);
        int workers = Math.Max(1, shape.Threads);
        int columns = KernelWidths.Columns(g.OutChannels, TOps.Lanes);
        fixed (long* stepPtr = steps)
        {
            nint stepAddress = (nint)stepPtr;
            if (PaddedImageGroups.CanSplit(g, ChunkPixels, workers))
            {
                PaddedImageGroups.ForEachGroup(shape.Input, g, ChunkPixels, workers, runs: null, (padded, geometry, firstPixel, _, upcoming) =>
                {
                    var group = shape.ForGroup(padded, geometry, firstPixel);
                    RunItems<TOps, TV, TLoad, TTile>(group, columns, 0, group.Items(columns), (long*)stepAddress, upcoming);
                });
                return;
            }
            PaddedImageGroups.WithWholeBatch(shape.Input, g, padded =>
            {
                var all = shape.ForGroup((float*)padded, g, 0);
                // Runs of consecutive items, a few per thread, taken as threads become free: a thread that another
                // process holds up takes fewer.
                int items = all.Items(columns), runs = Math.Min(items, RunsPerWorker * workers);
                OpenMpTeam.ForEachPiece(runs, workers, run => RunItems<TOps, TV, TLoad, TTile>(all, columns, (int)((long)items * run / runs),
                    (int)((long)items * (run + 1) / runs), (long*)stepAddress, PaddedImageGroups.UpcomingInput.None));
            });
        }
    }

    private readonly struct Args(float* input, float* output, float* centre, float* offCentre, float* bias, ConvGeometry g,
        long centreOffset, OutputEpilogue epilogue, int threads)
    {
        public readonly float* Input = input, Output = output, Centre = centre, OffCentre = offCentre, Bias = bias;
        public readonly ConvGeometry G = g;
        public readonly long CentreOffset = centreOffset;
        public readonly OutputEpilogue Epilogue = epilogue;
        public readonly int Threads = threads;

        /// <summary>Work items: chunks of output pixels times columns of filters (a tile's two vectors).</summary>
        public int Items(int columns) => (int)((G.OutputPixels + ChunkPixels - 1) / ChunkPixels) * columns;

        /// <summary>The same pass over one group (see <see cref="PaddedImageGroups"/>), read from its padded copy.</summary>
        public Args ForGroup(float* padded, ConvGeometry group, long firstPixel) =>
            new(padded, Output + firstPixel * G.OutChannels, Centre, OffCentre, Bias,
                group, CentreOffset, Epilogue.From(firstPixel * G.OutChannels), Threads);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItems<TOps, TV, TLoad, TTile>(in Args a, int columns, int first, int last, long* steps,
        PaddedImageGroups.UpcomingInput upcoming)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>
    {
        long pixels = a.G.OutputPixels;
        // Each chunk's pixel corners are found once, stepping through (image, row, column) without divisions, and
        // serve every column of filters: per tile they would cost as much as the multiply-adds of a 16-channel layer.
        // Slots past the chunk's end repeat its first pixel (computed, never stored).
        nint* corners = stackalloc nint[ChunkPixels + KernelDispatch.MaxTileRows];
        long cornersOf = -1;
        for (int item = first; item < last; item++)
        {
            // Column-major within a chunk: consecutive items read the same input pixels.
            int column = item % columns;
            long start = (long)(item / columns) * ChunkPixels, end = Math.Min(pixels, start + ChunkPixels);
            if (cornersOf != start)
            {
                int count = (int)(end - start);
                PaddedImageGroups.FindCorners(a.Input, a.G, start, count, corners);
                for (int i = count; i < count + KernelDispatch.MaxTileRows; i++) corners[i] = corners[0];
                cornersOf = start;
            }
            upcoming.Fetch(item - first, last - first);
            for (long pixel = start; pixel < end; pixel += TTile.Rows)
                Tile<TOps, TV, TLoad, TTile>(a, corners + (pixel - start), pixel, (int)Math.Min(TTile.Rows, end - pixel), column, steps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TOps, TV, TLoad, TTile>(in Args a, nint* corners, long pixel, int count, int column, long* steps)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>
    {
        const int MaxColumnFilters = 32;
        int L = TOps.Lanes, m = a.G.InChannels;
        float* edge = stackalloc float[MaxColumnFilters * KernelDispatch.MaxTileRows];   // a partial tile's results, before the valid part is copied

        // The tile's filters: f0 .. f0 + L - 1 in the first vector, f1 = f0 + L on in the second. Where the second
        // would lie past the last block (AVX-512, an odd number of blocks) it repeats the first, computed and dropped.
        // Its rows are the pixels whose corners start at corners[0].
        int f0 = column * 2 * L, f1 = f0 + L;
        bool second = f1 < a.G.FilterBlocks * 16;
        long centreBlock = (long)m * 16, offCentreBlock = (long)a.G.OffCentreTaps * a.G.KxkPerFilter * 16;
        // Arguments with branches are computed before a call on the tile: the JIT would otherwise keep the tile's
        // address in a temporary across them, and the whole tile in memory.
        TV bias0 = TOps.Load(a.Bias + f0), bias1 = TOps.Load(a.Bias + (second ? f1 : f0));
        TTile tile = default;
        tile.Start(bias0, bias1, corners);

        // Centre tap: a dense 1x1 product over all M channels (scalar broadcast per pixel). The second vector's
        // weights are the next L lanes of the same block, or (16 lanes) the next block.
        nint centre = (nint)a.CentreOffset, centreEnd = centre + m;
        float* w = a.Centre + f0 / 16 * centreBlock + f0 % 16;
        nint wDelta = L < 16 ? L : second ? (nint)centreBlock : 0;
        for (nint k = centre; k < centreEnd; k++, w += 16)
            tile.MultiplyAdd<TOps, ScalarLoad, RowPointer>(TOps.Load(w), TOps.Load(w + wDelta), k, 0);

        // Other taps, one flat loop over (tap, j): each lane's filter reads its own KxK channels, (n mod P) + P*j
        // (see ILaneLoad), so the first lane's channel offset n0 mod P moves every address once.
        nint laneBase = LaneLoads.Base(a.G.Part, f0);
        nint delta = LaneLoads.SecondDelta(a.G.Part, L, f0);
        w = a.OffCentre + f0 / 16 * offCentreBlock + f0 % 16;
        wDelta = L < 16 ? L : second ? (nint)offCentreBlock : 0;
        long* stepEnd = steps + (long)a.G.OffCentreTaps * a.G.KxkPerFilter;
        for (long* step = steps; step < stepEnd; step++, w += 16)
            tile.MultiplyAdd<TOps, TLoad, RowPointer>(TOps.Load(w), TOps.Load(w + wDelta), (nint)(*step) + laneBase, delta);

        // A full tile is stored with its epilogue (residual, then ReLU) applied in registers; a partial one is stored
        // to a scratch tile and its valid part copied from there value by value (one store call for both: see ITile).
        int n = a.G.OutChannels, valid = Math.Min(2 * L, n - f0);
        float* y = a.Output + pixel * n + f0;
        float* r = a.Epilogue.Residual == null ? null : a.Epilogue.Residual + pixel * n + f0;
        bool full = count == TTile.Rows && valid == 2 * L;
        float* target = full ? y : edge, residual = full ? r : null;
        int stride = full ? n : 2 * L;
        bool relu = full && a.Epilogue.Relu;
        tile.Store<TOps>(target, residual, stride, relu);
        if (full) return;
        for (int slot = 0; slot < count; slot++)
            for (int l = 0; l < valid; l++)
            {
                float value = edge[slot * 2 * L + l];
                if (r != null) value += r[(long)slot * n + l];
                if (a.Epilogue.Relu) value = Math.Max(value, 0);
                y[(long)slot * n + l] = value;
            }
    }
}

/// <summary>
/// What the forward kernel does to each output value as it stores it: add the value at the same place of
/// <see cref="Residual"/> (an NHWC tensor of the output's shape) when there is one, then clamp at zero when
/// <see cref="Relu"/>. A residual block's addition and ReLU cost no pass of their own this way.
/// </summary>
internal readonly unsafe struct OutputEpilogue(bool relu, float* residual)
{
    public static OutputEpilogue None => default;

    public bool Relu { get; } = relu;
    public float* Residual { get; } = residual;

    /// <summary>The same epilogue for the output from element <paramref name="offset"/> on.</summary>
    public OutputEpilogue From(long offset) => new(Relu, Residual == null ? null : Residual + offset);
}
