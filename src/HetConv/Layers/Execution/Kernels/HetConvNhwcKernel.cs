using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// HetConv forward pass in one sweep over NHWC data, AVX2 + FMA, counting only the paper's multiply-adds:
/// per output pixel and filter, M for the centre tap (every 1x1 kernel and the KxK kernels' centres, one dense
/// 1x1 product) plus (K^2 - 1) M/P for the KxK kernels' other taps. A register tile is 6 output pixels by 16
/// filters (12 accumulators), the pixels consecutive in (image, row, column) order; chunks of pixels times blocks
/// of filters are spread over threads.
/// </summary>
/// <remarks>
/// The input is first copied into a zero-padded buffer, so every tap of every pixel is in bounds: a tap is one
/// fixed offset from a pixel's corner and all (K^2 - 1) M/P off-centre steps run as one flat loop over a table of
/// offsets, with no bounds checks and no per-tap set-up. That keeps small layers (16 or 32 channels, whose per-tap
/// loops would be a few steps long) busy with multiply-adds.
/// Packed weights (see <see cref="PackedHetConvWeights"/>): centre [blocks][M][16], off-centre [blocks][taps][M/P][16],
/// bias [blocks*16]. Supported parts: 1, 2, 4, 8 and multiples of 16 (see <see cref="ILaneLoad"/>).
/// Every method a kernel runs through is compiled fully optimized from its first call
/// (<see cref="MethodImplOptions.AggressiveOptimization"/>): under tiered compilation the first few dozen calls of a
/// layer would otherwise run unoptimized loops, which showed as a 35% slower first layer in benchmarks.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class HetConvNhwcKernel
{
    private const int TilePixels = 6;
    private const int ChunkPixels = 48;

    public static bool IsSupportedOnThisMachine => Avx2.IsSupported && Fma.IsSupported;

    public static bool SupportsPart(int part) => part is 1 or 2 or 4 or 8 || part % 16 == 0;

    public static void Forward(float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads, OutputEpilogue epilogue)
    {
        switch (g.Part)
        {
            case 1: Run<PartOneLoad>(input, output, centre, offCentre, bias, g, threads, epilogue); break;
            case 2: Run<PartTwoLoad>(input, output, centre, offCentre, bias, g, threads, epilogue); break;
            case 4: Run<PartFourLoad>(input, output, centre, offCentre, bias, g, threads, epilogue); break;
            case 8: Run<PartEightLoad>(input, output, centre, offCentre, bias, g, threads, epilogue); break;
            case var p when p % 16 == 0: Run<PartSixteenMultipleLoad>(input, output, centre, offCentre, bias, g, threads, epilogue); break;
            default: throw new NotSupportedException($"part P = {g.Part}: the NHWC kernel handles P = 1, 2, 4, 8 and multiples of 16.");
        }
    }

    private static void Run<TLoad>(float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads, OutputEpilogue epilogue) where TLoad : struct, ILaneLoad
    {
        var steps = PaddedImageGroups.OffCentreStepOffsets(g);
        int workers = Math.Max(1, threads);
        var shape = new Args(input, output, centre, offCentre, bias, g, PaddedImageGroups.CentreTapOffset(g), epilogue);
        fixed (long* stepPtr = steps)
        {
            nint stepAddress = (nint)stepPtr;
            if (PaddedImageGroups.CanSplit(g, ChunkPixels, workers))
            {
                PaddedImageGroups.ForEachGroup(input, g, ChunkPixels, workers, runs: null, (padded, geometry, firstPixel, _, upcoming) =>
                {
                    var group = shape.ForGroup(padded, geometry, firstPixel);
                    RunItems<TLoad>(group, 0, group.Items, (long*)stepAddress, upcoming);
                });
                return;
            }
            PaddedImageGroups.WithWholeBatch(input, g, padded =>
            {
                var all = shape.ForGroup((float*)padded, g, 0);
                int items = all.Items, active = Math.Min(workers, items);
                OpenMpTeam.Run(active, worker => RunItems<TLoad>(all, (int)((long)items * worker / active),
                    (int)((long)items * (worker + 1) / active), (long*)stepAddress, PaddedImageGroups.UpcomingInput.None));
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

        /// <summary>Work items: chunks of output pixels times blocks of 16 filters.</summary>
        public int Items => (int)((G.OutputPixels + ChunkPixels - 1) / ChunkPixels) * G.FilterBlocks;

        /// <summary>The same pass over one group (see <see cref="PaddedImageGroups"/>), read from its padded copy.</summary>
        public Args ForGroup(float* padded, ConvGeometry group, long firstPixel) =>
            new(padded, Output + firstPixel * G.OutChannels, Centre, OffCentre, Bias,
                group, CentreOffset, Epilogue.From(firstPixel * G.OutChannels));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItems<TLoad>(in Args a, int first, int last, long* steps, PaddedImageGroups.UpcomingInput upcoming)
        where TLoad : struct, ILaneLoad
    {
        long pixels = a.G.OutputPixels;
        // Each chunk's pixel corners are found once, stepping through (image, row, column) without divisions, and
        // serve every block of filters: per tile they would cost as much as the multiply-adds of a 16-channel layer.
        // Slots past the chunk's end repeat its first pixel (computed, never stored).
        nint* corners = stackalloc nint[ChunkPixels + TilePixels];
        long cornersOf = -1;
        for (int item = first; item < last; item++)
        {
            // Block-major within a chunk: consecutive items read the same input pixels.
            int block = item % a.G.FilterBlocks;
            long start = (long)(item / a.G.FilterBlocks) * ChunkPixels, end = Math.Min(pixels, start + ChunkPixels);
            if (cornersOf != start)
            {
                int count = (int)(end - start);
                PaddedImageGroups.FindCorners(a.Input, a.G, start, count, corners);
                for (int i = count; i < count + TilePixels; i++) corners[i] = corners[0];
                cornersOf = start;
            }
            upcoming.Fetch(item - first, last - first);
            for (long pixel = start; pixel < end; pixel += TilePixels)
                Tile<TLoad>(a, corners + (pixel - start), pixel, (int)Math.Min(TilePixels, end - pixel), block, steps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TLoad>(in Args a, nint* corners, long pixel, int count, int block, long* steps)
        where TLoad : struct, ILaneLoad
    {
        int m = a.G.InChannels;
        float* edge = stackalloc float[16 * TilePixels];   // a partial tile's results, before the valid part is copied
        float* p0 = (float*)corners[0], p1 = (float*)corners[1], p2 = (float*)corners[2];
        float* p3 = (float*)corners[3], p4 = (float*)corners[4], p5 = (float*)corners[5];

        var bias0 = Avx.LoadVector256(a.Bias + block * 16);
        var bias1 = Avx.LoadVector256(a.Bias + block * 16 + 8);
        Vector256<float> a00 = bias0, a01 = bias1, a10 = bias0, a11 = bias1, a20 = bias0, a21 = bias1;
        Vector256<float> a30 = bias0, a31 = bias1, a40 = bias0, a41 = bias1, a50 = bias0, a51 = bias1;

        // Centre tap: a dense 1x1 product over all M channels (scalar broadcast per pixel).
        long centre = a.CentreOffset;
        float* w = a.Centre + (long)block * m * 16;
        for (long k = centre; k < centre + m; k++, w += 16)
        {
            var w0 = Avx.LoadVector256(w);
            var w1 = Avx.LoadVector256(w + 8);
            var x = Avx.BroadcastScalarToVector256(p0 + k); a00 = Fma.MultiplyAdd(w0, x, a00); a01 = Fma.MultiplyAdd(w1, x, a01);
            x = Avx.BroadcastScalarToVector256(p1 + k); a10 = Fma.MultiplyAdd(w0, x, a10); a11 = Fma.MultiplyAdd(w1, x, a11);
            x = Avx.BroadcastScalarToVector256(p2 + k); a20 = Fma.MultiplyAdd(w0, x, a20); a21 = Fma.MultiplyAdd(w1, x, a21);
            x = Avx.BroadcastScalarToVector256(p3 + k); a30 = Fma.MultiplyAdd(w0, x, a30); a31 = Fma.MultiplyAdd(w1, x, a31);
            x = Avx.BroadcastScalarToVector256(p4 + k); a40 = Fma.MultiplyAdd(w0, x, a40); a41 = Fma.MultiplyAdd(w1, x, a41);
            x = Avx.BroadcastScalarToVector256(p5 + k); a50 = Fma.MultiplyAdd(w0, x, a50); a51 = Fma.MultiplyAdd(w1, x, a51);
        }

        // Other taps, one flat loop over (tap, j): each lane's filter reads its own KxK channels, (n mod P) + P*j
        // (see ILaneLoad), so the first lane's channel offset n0 mod P moves every pointer once.
        int laneBase = a.G.Part >= 16 ? block * 16 % a.G.Part : 0;
        p0 += laneBase; p1 += laneBase; p2 += laneBase; p3 += laneBase; p4 += laneBase; p5 += laneBase;
        w = a.OffCentre + (long)block * a.G.OffCentreTaps * a.G.KxkPerFilter * 16;
        long* stepEnd = steps + (long)a.G.OffCentreTaps * a.G.KxkPerFilter;
        for (long* step = steps; step < stepEnd; step++, w += 16)
        {
            long o = *step;
            var w0 = Avx.LoadVector256(w);
            var w1 = Avx.LoadVector256(w + 8);
            if (TLoad.Shared)
            {
                var x = TLoad.First(p0 + o); a00 = Fma.MultiplyAdd(w0, x, a00); a01 = Fma.MultiplyAdd(w1, x, a01);
                x = TLoad.First(p1 + o); a10 = Fma.MultiplyAdd(w0, x, a10); a11 = Fma.MultiplyAdd(w1, x, a11);
                x = TLoad.First(p2 + o); a20 = Fma.MultiplyAdd(w0, x, a20); a21 = Fma.MultiplyAdd(w1, x, a21);
                x = TLoad.First(p3 + o); a30 = Fma.MultiplyAdd(w0, x, a30); a31 = Fma.MultiplyAdd(w1, x, a31);
                x = TLoad.First(p4 + o); a40 = Fma.MultiplyAdd(w0, x, a40); a41 = Fma.MultiplyAdd(w1, x, a41);
                x = TLoad.First(p5 + o); a50 = Fma.MultiplyAdd(w0, x, a50); a51 = Fma.MultiplyAdd(w1, x, a51);
            }
            else
            {
                a00 = Fma.MultiplyAdd(w0, TLoad.First(p0 + o), a00); a01 = Fma.MultiplyAdd(w1, TLoad.Second(p0 + o), a01);
                a10 = Fma.MultiplyAdd(w0, TLoad.First(p1 + o), a10); a11 = Fma.MultiplyAdd(w1, TLoad.Second(p1 + o), a11);
                a20 = Fma.MultiplyAdd(w0, TLoad.First(p2 + o), a20); a21 = Fma.MultiplyAdd(w1, TLoad.Second(p2 + o), a21);
                a30 = Fma.MultiplyAdd(w0, TLoad.First(p3 + o), a30); a31 = Fma.MultiplyAdd(w1, TLoad.Second(p3 + o), a31);
                a40 = Fma.MultiplyAdd(w0, TLoad.First(p4 + o), a40); a41 = Fma.MultiplyAdd(w1, TLoad.Second(p4 + o), a41);
                a50 = Fma.MultiplyAdd(w0, TLoad.First(p5 + o), a50); a51 = Fma.MultiplyAdd(w1, TLoad.Second(p5 + o), a51);
            }
        }

        // Stores stay in this method: a call here would make the JIT keep the accumulators on the stack too.
        // The epilogue (residual, then ReLU) is applied to the registers of a full tile, value by value otherwise.
        int n = a.G.OutChannels, valid = Math.Min(16, n - block * 16);
        float* y = a.Output + pixel * n + block * 16;
        float* r = a.Epilogue.Residual == null ? null : a.Epilogue.Residual + pixel * n + block * 16;
        if (count == TilePixels && valid == 16)
        {
            if (r != null)
            {
                a00 = Avx.Add(a00, Avx.LoadVector256(r)); a01 = Avx.Add(a01, Avx.LoadVector256(r + 8));
                a10 = Avx.Add(a10, Avx.LoadVector256(r + n)); a11 = Avx.Add(a11, Avx.LoadVector256(r + n + 8));
                a20 = Avx.Add(a20, Avx.LoadVector256(r + 2 * n)); a21 = Avx.Add(a21, Avx.LoadVector256(r + 2 * n + 8));
                a30 = Avx.Add(a30, Avx.LoadVector256(r + 3 * n)); a31 = Avx.Add(a31, Avx.LoadVector256(r + 3 * n + 8));
                a40 = Avx.Add(a40, Avx.LoadVector256(r + 4 * n)); a41 = Avx.Add(a41, Avx.LoadVector256(r + 4 * n + 8));
                a50 = Avx.Add(a50, Avx.LoadVector256(r + 5 * n)); a51 = Avx.Add(a51, Avx.LoadVector256(r + 5 * n + 8));
            }
            if (a.Epilogue.Relu)
            {
                var zero = Vector256<float>.Zero;
                a00 = Avx.Max(a00, zero); a01 = Avx.Max(a01, zero); a10 = Avx.Max(a10, zero); a11 = Avx.Max(a11, zero);
                a20 = Avx.Max(a20, zero); a21 = Avx.Max(a21, zero); a30 = Avx.Max(a30, zero); a31 = Avx.Max(a31, zero);
                a40 = Avx.Max(a40, zero); a41 = Avx.Max(a41, zero); a50 = Avx.Max(a50, zero); a51 = Avx.Max(a51, zero);
            }
            Avx.Store(y, a00); Avx.Store(y + 8, a01);
            Avx.Store(y + n, a10); Avx.Store(y + n + 8, a11);
            Avx.Store(y + 2 * n, a20); Avx.Store(y + 2 * n + 8, a21);
            Avx.Store(y + 3 * n, a30); Avx.Store(y + 3 * n + 8, a31);
            Avx.Store(y + 4 * n, a40); Avx.Store(y + 4 * n + 8, a41);
            Avx.Store(y + 5 * n, a50); Avx.Store(y + 5 * n + 8, a51);
            return;
        }
        Avx.Store(edge, a00); Avx.Store(edge + 8, a01);
        Avx.Store(edge + 16, a10); Avx.Store(edge + 24, a11);
        Avx.Store(edge + 32, a20); Avx.Store(edge + 40, a21);
        Avx.Store(edge + 48, a30); Avx.Store(edge + 56, a31);
        Avx.Store(edge + 64, a40); Avx.Store(edge + 72, a41);
        Avx.Store(edge + 80, a50); Avx.Store(edge + 88, a51);
        for (int slot = 0; slot < count; slot++)
            for (int l = 0; l < valid; l++)
            {
                float value = edge[slot * 16 + l];
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
