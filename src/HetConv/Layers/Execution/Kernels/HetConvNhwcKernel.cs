using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// HetConv forward pass in one sweep over NHWC data, counting only the paper's multiply-adds: per output pixel and
/// filter, M for the centre tap (every 1x1 kernel and the KxK kernels' centres, one dense 1x1 product) plus
/// (K^2 - 1) M/P for the KxK kernels' other taps. Written once over a vector width (<see cref="IVectorOps{TVector}"/>,
/// chosen by <see cref="KernelIsa"/>): a register tile is TileRows output pixels (6; 12 with AVX-512) by two
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
    private const int MaxTileRows = 12;
    private const int ChunkPixels = 48;

    // Work distribution: runs of items per thread when the batch is padded whole (few images).
    private const int RunsPerWorker = 4;

    public static bool IsSupportedOnThisMachine => KernelIsa.KernelsAvailable;

    public static bool SupportsPart(int part) => LaneLoads.SupportsPart(part);

    /// <summary>The forward pass at the width <see cref="KernelIsa"/> chooses now.</summary>
    public static void Forward(float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads, OutputEpilogue epilogue) =>
        Forward(KernelIsa.Current, input, output, centre, offCentre, bias, g, threads, epilogue);

    public static void Forward(VectorWidth width, float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads, OutputEpilogue epilogue)
    {
        if (!SupportsPart(g.Part))
            throw new NotSupportedException($"part P = {g.Part}: the NHWC kernel handles P = 1, 2, 4, 8 and multiples of 16.");
        var a = new Args(input, output, centre, offCentre, bias, g, PaddedImageGroups.CentreTapOffset(g), epilogue);
        width = KernelWidths.For(width, g.OutChannels);
        KernelIsa.CountLaunch(width);
        switch (width)
        {
            case VectorWidth.Avx512: WithLoad<Vector512Ops, Vector512<float>>(a, threads); break;
            case VectorWidth.Avx2: WithLoad<Vector256Ops, Vector256<float>>(a, threads); break;
            default: WithLoad<Vector128Ops, Vector128<float>>(a, threads); break;
        }
    }

    private static void WithLoad<TOps, TV>(in Args a, int threads) where TOps : struct, IVectorOps<TV> where TV : struct
    {
        switch (LaneLoads.For(a.G.Part, TOps.Lanes))
        {
            case LaneLoadKind.Scalar: Run<TOps, TV, ScalarLoad>(a, threads); break;
            case LaneLoadKind.Pair: Run<TOps, TV, PairLoad>(a, threads); break;
            case LaneLoadKind.Quad: Run<TOps, TV, QuadLoad>(a, threads); break;
            case LaneLoadKind.Octet: Run<TOps, TV, OctetLoad>(a, threads); break;
            case LaneLoadKind.Contiguous: Run<TOps, TV, ContiguousLoad>(a, threads); break;
            case LaneLoadKind.Split: Run<TOps, TV, SplitLoad>(a, threads); break;
            default: Run<TOps, TV, SplitAtLoad>(a, threads); break;
        }
    }

    private static void Run<TOps, TV, TLoad>(Args shape, int threads)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad
    {
        var g = shape.G;
        var steps = PaddedImageGroups.OffCentreStepOffsets(g);
        int workers = Math.Max(1, threads);
        int columns = KernelWidths.Columns(g.OutChannels, TOps.Lanes);
        fixed (long* stepPtr = steps)
        {
            nint stepAddress = (nint)stepPtr;
            if (PaddedImageGroups.CanSplit(g, ChunkPixels, workers))
            {
                PaddedImageGroups.ForEachGroup(shape.Input, g, ChunkPixels, workers, runs: null, (padded, geometry, firstPixel, _, upcoming) =>
                {
                    var group = shape.ForGroup(padded, geometry, firstPixel);
                    RunItems<TOps, TV, TLoad>(group, columns, 0, group.Items(columns), (long*)stepAddress, upcoming);
                });
                return;
            }
            PaddedImageGroups.WithWholeBatch(shape.Input, g, padded =>
            {
                var all = shape.ForGroup((float*)padded, g, 0);
                // Runs of consecutive items, a few per thread, taken as threads become free: a thread that another
                // process holds up takes fewer.
                int items = all.Items(columns), runs = Math.Min(items, RunsPerWorker * workers);
                OpenMpTeam.ForEachPiece(runs, workers, run => RunItems<TOps, TV, TLoad>(all, columns, (int)((long)items * run / runs),
                    (int)((long)items * (run + 1) / runs), (long*)stepAddress, PaddedImageGroups.UpcomingInput.None));
            });
        }
    }

    private readonly struct Args(float* input, float* output, float* centre, float* offCentre, float* bias, ConvGeometry g,
        long centreOffset, OutputEpilogue epilogue)
    {
        public readonly float* Input = input, Output = output, Centre = centre, OffCentre = offCentre, Bias = bias;
        public readonly ConvGeometry G = g;
        public readonly long CentreOffset = centreOffset;
        public readonly OutputEpilogue Epilogue = epilogue;

        /// <summary>Work items: chunks of output pixels times columns of filters (a tile's two vectors).</summary>
        public int Items(int columns) => (int)((G.OutputPixels + ChunkPixels - 1) / ChunkPixels) * columns;

        /// <summary>The same pass over one group (see <see cref="PaddedImageGroups"/>), read from its padded copy.</summary>
        public Args ForGroup(float* padded, ConvGeometry group, long firstPixel) =>
            new(padded, Output + firstPixel * G.OutChannels, Centre, OffCentre, Bias,
                group, CentreOffset, Epilogue.From(firstPixel * G.OutChannels));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItems<TOps, TV, TLoad>(in Args a, int columns, int first, int last, long* steps, PaddedImageGroups.UpcomingInput upcoming)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad
    {
        long pixels = a.G.OutputPixels;
        // Each chunk's pixel corners are found once, stepping through (image, row, column) without divisions, and
        // serve every column of filters: per tile they would cost as much as the multiply-adds of a 16-channel layer.
        // Slots past the chunk's end repeat its first pixel (computed, never stored).
        nint* corners = stackalloc nint[ChunkPixels + MaxTileRows];
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
                for (int i = count; i < count + MaxTileRows; i++) corners[i] = corners[0];
                cornersOf = start;
            }
            upcoming.Fetch(item - first, last - first);
            for (long pixel = start; pixel < end; pixel += TOps.TileRows)
                Tile<TOps, TV, TLoad>(a, corners + (pixel - start), pixel, (int)Math.Min(TOps.TileRows, end - pixel), column, steps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TOps, TV, TLoad>(in Args a, nint* corners, long pixel, int count, int column, long* steps)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad
    {
        const int MaxColumnFilters = 32;
        int L = TOps.Lanes, m = a.G.InChannels;
        float* edge = stackalloc float[MaxColumnFilters * MaxTileRows];   // a partial tile's results, before the valid part is copied
        float* p0 = (float*)corners[0], p1 = (float*)corners[1], p2 = (float*)corners[2], p3 = (float*)corners[3], p4 = (float*)corners[4], p5 = (float*)corners[5];
        // Rows 6-11 exist only where the tile has them (AVX-512); elsewhere the JIT drops them with their code.
        float* p6 = TOps.TileRows > 6 ? (float*)corners[6] : null, p7 = TOps.TileRows > 6 ? (float*)corners[7] : null,
            p8 = TOps.TileRows > 6 ? (float*)corners[8] : null, p9 = TOps.TileRows > 6 ? (float*)corners[9] : null,
            p10 = TOps.TileRows > 6 ? (float*)corners[10] : null, p11 = TOps.TileRows > 6 ? (float*)corners[11] : null;

        // The tile's filters: f0 .. f0 + L - 1 in the first vector, f1 = f0 + L on in the second. Where the second
        // would lie past the last block (AVX-512, an odd number of blocks) it repeats the first, computed and dropped.
        int f0 = column * 2 * L, f1 = f0 + L;
        bool second = f1 < a.G.FilterBlocks * 16;
        long centreBlock = (long)m * 16, offCentreBlock = (long)a.G.OffCentreTaps * a.G.KxkPerFilter * 16;
        var bias0 = TOps.Load(a.Bias + f0);
        var bias1 = TOps.Load(a.Bias + (second ? f1 : f0));
        TV a00 = bias0, a01 = bias1, a10 = bias0, a11 = bias1, a20 = bias0, a21 = bias1, a30 = bias0, a31 = bias1, a40 = bias0, a41 = bias1, a50 = bias0, a51 = bias1;
        TV a60 = bias0, a61 = bias1, a70 = bias0, a71 = bias1, a80 = bias0, a81 = bias1, a90 = bias0, a91 = bias1, a100 = bias0, a101 = bias1, a110 = bias0, a111 = bias1;

        // Centre tap: a dense 1x1 product over all M channels (scalar broadcast per pixel). The second vector's
        // weights are the next L lanes of the same block, or (16 lanes) the next block.
        long centre = a.CentreOffset, centreEnd = centre + m;
        float* w = a.Centre + f0 / 16 * centreBlock + f0 % 16;
        nint wDelta = L < 16 ? L : second ? (nint)centreBlock : 0;
        for (long k = centre; k < centreEnd; k++, w += 16)
        {
            var w0 = TOps.Load(w);
            var w1 = TOps.Load(w + wDelta);
            TV x;
            x = TOps.Broadcast(p0 + k); a00 = TOps.MultiplyAdd(w0, x, a00); a01 = TOps.MultiplyAdd(w1, x, a01);
            x = TOps.Broadcast(p1 + k); a10 = TOps.MultiplyAdd(w0, x, a10); a11 = TOps.MultiplyAdd(w1, x, a11);
            x = TOps.Broadcast(p2 + k); a20 = TOps.MultiplyAdd(w0, x, a20); a21 = TOps.MultiplyAdd(w1, x, a21);
            x = TOps.Broadcast(p3 + k); a30 = TOps.MultiplyAdd(w0, x, a30); a31 = TOps.MultiplyAdd(w1, x, a31);
            x = TOps.Broadcast(p4 + k); a40 = TOps.MultiplyAdd(w0, x, a40); a41 = TOps.MultiplyAdd(w1, x, a41);
            x = TOps.Broadcast(p5 + k); a50 = TOps.MultiplyAdd(w0, x, a50); a51 = TOps.MultiplyAdd(w1, x, a51);
            if (TOps.TileRows > 6)
            {
                x = TOps.Broadcast(p6 + k); a60 = TOps.MultiplyAdd(w0, x, a60); a61 = TOps.MultiplyAdd(w1, x, a61);
                x = TOps.Broadcast(p7 + k); a70 = TOps.MultiplyAdd(w0, x, a70); a71 = TOps.MultiplyAdd(w1, x, a71);
                x = TOps.Broadcast(p8 + k); a80 = TOps.MultiplyAdd(w0, x, a80); a81 = TOps.MultiplyAdd(w1, x, a81);
                x = TOps.Broadcast(p9 + k); a90 = TOps.MultiplyAdd(w0, x, a90); a91 = TOps.MultiplyAdd(w1, x, a91);
                x = TOps.Broadcast(p10 + k); a100 = TOps.MultiplyAdd(w0, x, a100); a101 = TOps.MultiplyAdd(w1, x, a101);
                x = TOps.Broadcast(p11 + k); a110 = TOps.MultiplyAdd(w0, x, a110); a111 = TOps.MultiplyAdd(w1, x, a111);
            }
        }

        // Other taps, one flat loop over (tap, j): each lane's filter reads its own KxK channels, (n mod P) + P*j
        // (see ILaneLoad), so the first lane's channel offset n0 mod P moves every pointer once.
        int laneBase = LaneLoads.Base(a.G.Part, f0);
        nint delta = LaneLoads.SecondDelta(a.G.Part, L, f0);
        p0 += laneBase; p1 += laneBase; p2 += laneBase; p3 += laneBase; p4 += laneBase; p5 += laneBase;
        if (TOps.TileRows > 6) { p6 += laneBase; p7 += laneBase; p8 += laneBase; p9 += laneBase; p10 += laneBase; p11 += laneBase; }
        w = a.OffCentre + f0 / 16 * offCentreBlock + f0 % 16;
        wDelta = L < 16 ? L : second ? (nint)offCentreBlock : 0;
        long* stepEnd = steps + (long)a.G.OffCentreTaps * a.G.KxkPerFilter;
        for (long* step = steps; step < stepEnd; step++, w += 16)
        {
            long o = *step;
            var w0 = TOps.Load(w);
            var w1 = TOps.Load(w + wDelta);
            if (TLoad.Shared)
            {
                TV x;
                x = TLoad.First<TOps, TV>(p0 + o); a00 = TOps.MultiplyAdd(w0, x, a00); a01 = TOps.MultiplyAdd(w1, x, a01);
                x = TLoad.First<TOps, TV>(p1 + o); a10 = TOps.MultiplyAdd(w0, x, a10); a11 = TOps.MultiplyAdd(w1, x, a11);
                x = TLoad.First<TOps, TV>(p2 + o); a20 = TOps.MultiplyAdd(w0, x, a20); a21 = TOps.MultiplyAdd(w1, x, a21);
                x = TLoad.First<TOps, TV>(p3 + o); a30 = TOps.MultiplyAdd(w0, x, a30); a31 = TOps.MultiplyAdd(w1, x, a31);
                x = TLoad.First<TOps, TV>(p4 + o); a40 = TOps.MultiplyAdd(w0, x, a40); a41 = TOps.MultiplyAdd(w1, x, a41);
                x = TLoad.First<TOps, TV>(p5 + o); a50 = TOps.MultiplyAdd(w0, x, a50); a51 = TOps.MultiplyAdd(w1, x, a51);
                if (TOps.TileRows > 6)
                {
                    x = TLoad.First<TOps, TV>(p6 + o); a60 = TOps.MultiplyAdd(w0, x, a60); a61 = TOps.MultiplyAdd(w1, x, a61);
                    x = TLoad.First<TOps, TV>(p7 + o); a70 = TOps.MultiplyAdd(w0, x, a70); a71 = TOps.MultiplyAdd(w1, x, a71);
                    x = TLoad.First<TOps, TV>(p8 + o); a80 = TOps.MultiplyAdd(w0, x, a80); a81 = TOps.MultiplyAdd(w1, x, a81);
                    x = TLoad.First<TOps, TV>(p9 + o); a90 = TOps.MultiplyAdd(w0, x, a90); a91 = TOps.MultiplyAdd(w1, x, a91);
                    x = TLoad.First<TOps, TV>(p10 + o); a100 = TOps.MultiplyAdd(w0, x, a100); a101 = TOps.MultiplyAdd(w1, x, a101);
                    x = TLoad.First<TOps, TV>(p11 + o); a110 = TOps.MultiplyAdd(w0, x, a110); a111 = TOps.MultiplyAdd(w1, x, a111);
                }
            }
            else
            {
                a00 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p0 + o), a00); a01 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p0 + o, delta), a01);
                a10 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p1 + o), a10); a11 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p1 + o, delta), a11);
                a20 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p2 + o), a20); a21 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p2 + o, delta), a21);
                a30 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p3 + o), a30); a31 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p3 + o, delta), a31);
                a40 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p4 + o), a40); a41 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p4 + o, delta), a41);
                a50 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p5 + o), a50); a51 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p5 + o, delta), a51);
                if (TOps.TileRows > 6)
                {
                    a60 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p6 + o), a60); a61 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p6 + o, delta), a61);
                    a70 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p7 + o), a70); a71 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p7 + o, delta), a71);
                    a80 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p8 + o), a80); a81 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p8 + o, delta), a81);
                    a90 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p9 + o), a90); a91 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p9 + o, delta), a91);
                    a100 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p10 + o), a100); a101 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p10 + o, delta), a101);
                    a110 = TOps.MultiplyAdd(w0, TLoad.First<TOps, TV>(p11 + o), a110); a111 = TOps.MultiplyAdd(w1, TLoad.Second<TOps, TV>(p11 + o, delta), a111);
                }
            }
        }

        // Stores stay in this method: a call here would make the JIT keep the accumulators on the stack too.
        // The epilogue (residual, then ReLU) is applied to the registers of a full tile, value by value otherwise.
        int n = a.G.OutChannels, valid = Math.Min(2 * L, n - f0);
        float* y = a.Output + pixel * n + f0;
        float* r = a.Epilogue.Residual == null ? null : a.Epilogue.Residual + pixel * n + f0;
        if (count == TOps.TileRows && valid == 2 * L)
        {
            if (r != null)
            {
                a00 = TOps.Add(a00, TOps.Load(r + 0 * n)); a01 = TOps.Add(a01, TOps.Load(r + 0 * n + L));
                a10 = TOps.Add(a10, TOps.Load(r + 1 * n)); a11 = TOps.Add(a11, TOps.Load(r + 1 * n + L));
                a20 = TOps.Add(a20, TOps.Load(r + 2 * n)); a21 = TOps.Add(a21, TOps.Load(r + 2 * n + L));
                a30 = TOps.Add(a30, TOps.Load(r + 3 * n)); a31 = TOps.Add(a31, TOps.Load(r + 3 * n + L));
                a40 = TOps.Add(a40, TOps.Load(r + 4 * n)); a41 = TOps.Add(a41, TOps.Load(r + 4 * n + L));
                a50 = TOps.Add(a50, TOps.Load(r + 5 * n)); a51 = TOps.Add(a51, TOps.Load(r + 5 * n + L));
                if (TOps.TileRows > 6)
                {
                    a60 = TOps.Add(a60, TOps.Load(r + 6 * n)); a61 = TOps.Add(a61, TOps.Load(r + 6 * n + L));
                    a70 = TOps.Add(a70, TOps.Load(r + 7 * n)); a71 = TOps.Add(a71, TOps.Load(r + 7 * n + L));
                    a80 = TOps.Add(a80, TOps.Load(r + 8 * n)); a81 = TOps.Add(a81, TOps.Load(r + 8 * n + L));
                    a90 = TOps.Add(a90, TOps.Load(r + 9 * n)); a91 = TOps.Add(a91, TOps.Load(r + 9 * n + L));
                    a100 = TOps.Add(a100, TOps.Load(r + 10 * n)); a101 = TOps.Add(a101, TOps.Load(r + 10 * n + L));
                    a110 = TOps.Add(a110, TOps.Load(r + 11 * n)); a111 = TOps.Add(a111, TOps.Load(r + 11 * n + L));
                }
            }
            if (a.Epilogue.Relu)
            {
                a00 = TOps.Relu(a00); a01 = TOps.Relu(a01);
                a10 = TOps.Relu(a10); a11 = TOps.Relu(a11);
                a20 = TOps.Relu(a20); a21 = TOps.Relu(a21);
                a30 = TOps.Relu(a30); a31 = TOps.Relu(a31);
                a40 = TOps.Relu(a40); a41 = TOps.Relu(a41);
                a50 = TOps.Relu(a50); a51 = TOps.Relu(a51);
                if (TOps.TileRows > 6)
                {
                    a60 = TOps.Relu(a60); a61 = TOps.Relu(a61);
                    a70 = TOps.Relu(a70); a71 = TOps.Relu(a71);
                    a80 = TOps.Relu(a80); a81 = TOps.Relu(a81);
                    a90 = TOps.Relu(a90); a91 = TOps.Relu(a91);
                    a100 = TOps.Relu(a100); a101 = TOps.Relu(a101);
                    a110 = TOps.Relu(a110); a111 = TOps.Relu(a111);
                }
            }
            TOps.Store(y + 0 * n, a00); TOps.Store(y + 0 * n + L, a01);
            TOps.Store(y + 1 * n, a10); TOps.Store(y + 1 * n + L, a11);
            TOps.Store(y + 2 * n, a20); TOps.Store(y + 2 * n + L, a21);
            TOps.Store(y + 3 * n, a30); TOps.Store(y + 3 * n + L, a31);
            TOps.Store(y + 4 * n, a40); TOps.Store(y + 4 * n + L, a41);
            TOps.Store(y + 5 * n, a50); TOps.Store(y + 5 * n + L, a51);
            if (TOps.TileRows > 6)
            {
                TOps.Store(y + 6 * n, a60); TOps.Store(y + 6 * n + L, a61);
                TOps.Store(y + 7 * n, a70); TOps.Store(y + 7 * n + L, a71);
                TOps.Store(y + 8 * n, a80); TOps.Store(y + 8 * n + L, a81);
                TOps.Store(y + 9 * n, a90); TOps.Store(y + 9 * n + L, a91);
                TOps.Store(y + 10 * n, a100); TOps.Store(y + 10 * n + L, a101);
                TOps.Store(y + 11 * n, a110); TOps.Store(y + 11 * n + L, a111);
            }
            return;
        }
        TOps.Store(edge + 0 * 2 * L, a00); TOps.Store(edge + 0 * 2 * L + L, a01);
        TOps.Store(edge + 1 * 2 * L, a10); TOps.Store(edge + 1 * 2 * L + L, a11);
        TOps.Store(edge + 2 * 2 * L, a20); TOps.Store(edge + 2 * 2 * L + L, a21);
        TOps.Store(edge + 3 * 2 * L, a30); TOps.Store(edge + 3 * 2 * L + L, a31);
        TOps.Store(edge + 4 * 2 * L, a40); TOps.Store(edge + 4 * 2 * L + L, a41);
        TOps.Store(edge + 5 * 2 * L, a50); TOps.Store(edge + 5 * 2 * L + L, a51);
        if (TOps.TileRows > 6)
        {
            TOps.Store(edge + 6 * 2 * L, a60); TOps.Store(edge + 6 * 2 * L + L, a61);
            TOps.Store(edge + 7 * 2 * L, a70); TOps.Store(edge + 7 * 2 * L + L, a71);
            TOps.Store(edge + 8 * 2 * L, a80); TOps.Store(edge + 8 * 2 * L + L, a81);
            TOps.Store(edge + 9 * 2 * L, a90); TOps.Store(edge + 9 * 2 * L + L, a91);
            TOps.Store(edge + 10 * 2 * L, a100); TOps.Store(edge + 10 * 2 * L + L, a101);
            TOps.Store(edge + 11 * 2 * L, a110); TOps.Store(edge + 11 * 2 * L + L, a111);
        }
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
