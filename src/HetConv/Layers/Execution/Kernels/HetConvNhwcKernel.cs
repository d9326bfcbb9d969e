using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// HetConv forward pass in one sweep over NHWC data, AVX2 + FMA, counting only the paper's multiply-adds:
/// per output pixel and filter, M for the centre tap (every 1x1 kernel and the KxK kernels' centres, one dense
/// 1x1 product) plus (K^2 - 1) M/P for the KxK kernels' other taps. A register tile is 6 output pixels of one row
/// by 16 filters (12 accumulators), the pixels consecutive in (image, row, column) order; chunks of pixels times
/// blocks of filters are spread over threads.
/// </summary>
/// <remarks>
/// Packed weights (see <see cref="PackedHetConvWeights"/>): centre [blocks][M][16], off-centre [blocks][taps][M/P][16],
/// bias [blocks*16]. Supported parts: 1, 2, 4, 8 and multiples of 16 (see <see cref="ILaneLoad"/>).
/// </remarks>
internal static unsafe class HetConvNhwcKernel
{
    private const int TilePixels = 6;
    private const int ChunkPixels = 48;

    public static bool IsSupportedOnThisMachine => Avx2.IsSupported && Fma.IsSupported;

    public static bool SupportsPart(int part) => part is 1 or 2 or 4 or 8 || part % 16 == 0;

    public static void Forward(float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads)
    {
        switch (g.Part)
        {
            case 1: Run<PartOneLoad>(input, output, centre, offCentre, bias, g, threads); break;
            case 2: Run<PartTwoLoad>(input, output, centre, offCentre, bias, g, threads); break;
            case 4: Run<PartFourLoad>(input, output, centre, offCentre, bias, g, threads); break;
            case 8: Run<PartEightLoad>(input, output, centre, offCentre, bias, g, threads); break;
            case var p when p % 16 == 0: Run<PartSixteenMultipleLoad>(input, output, centre, offCentre, bias, g, threads); break;
            default: throw new NotSupportedException($"part P = {g.Part}: the NHWC kernel handles P = 1, 2, 4, 8 and multiples of 16.");
        }
    }

    private static void Run<TLoad>(float* input, float* output, float* centre, float* offCentre, float* bias,
        ConvGeometry g, int threads) where TLoad : struct, ILaneLoad
    {
        // Out-of-image taps read zeros: one zero pixel, long enough for any channel offset a lane load uses.
        var zeros = new float[g.InChannels + 16];
        var taps = new (int dy, int dx)[g.OffCentreTaps];
        int c = g.KernelSize / 2, t = 0;
        for (int dy = 0; dy < g.KernelSize; dy++)
            for (int dx = 0; dx < g.KernelSize; dx++)
                if (dy != c || dx != c) taps[t++] = (dy, dx);

        // Work items: chunks of output pixels (taken across rows and images, so small maps still fill the tile)
        // times filter blocks, so that even a single small image keeps every thread busy.
        long pixels = (long)g.Batch * g.OutHeight * g.OutWidth;
        int chunks = (int)((pixels + ChunkPixels - 1) / ChunkPixels);
        int items = chunks * g.FilterBlocks;
        var args = new Args(input, output, centre, offCentre, bias, g);
        fixed (float* zero = zeros)
        {
            var zeroPtr = (nint)zero;
            int workers = Math.Max(1, Math.Min(threads, items));
            if (workers == 1)
            {
                for (int item = 0; item < items; item++) Item<TLoad>(args, item, pixels, (float*)zeroPtr, taps);
            }
            else
            {
                Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
                {
                    int first = (int)((long)items * worker / workers), last = (int)((long)items * (worker + 1) / workers);
                    for (int item = first; item < last; item++) Item<TLoad>(args, item, pixels, (float*)zeroPtr, taps);
                });
            }
        }
    }

    private readonly struct Args(float* input, float* output, float* centre, float* offCentre, float* bias, ConvGeometry g)
    {
        public readonly float* Input = input, Output = output, Centre = centre, OffCentre = offCentre, Bias = bias;
        public readonly ConvGeometry G = g;
    }

    private static void Item<TLoad>(in Args a, int item, long pixels, float* zero, (int dy, int dx)[] taps) where TLoad : struct, ILaneLoad
    {
        // Block-major within a chunk: consecutive items share a block's weights.
        int block = item % a.G.FilterBlocks;
        long start = (long)(item / a.G.FilterBlocks) * ChunkPixels, end = Math.Min(pixels, start + ChunkPixels);
        for (long pixel = start; pixel < end; pixel += TilePixels)
            Tile<TLoad>(a, pixel, (int)Math.Min(TilePixels, end - pixel), block, zero, taps);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Pixel(in Args a, int* origin, int slot, int dy, int dx, float* zero)
    {
        var g = a.G;
        int b = origin[3 * slot];
        if (b < 0) return zero;
        int iy = origin[3 * slot + 1] + dy, ix = origin[3 * slot + 2] + dx;
        if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) return zero;
        return a.Input + (((long)b * g.Height + iy) * g.Width + ix) * g.InChannels;
    }

    /// <summary>The input pixels the six slots read at tap (dy, dx).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SlotPixels(in Args a, int* origin, int dy, int dx, float* zero, bool interior, float* rowBase,
        long pixelStep, out float* p0, out float* p1, out float* p2, out float* p3, out float* p4, out float* p5)
    {
        if (interior)
        {
            int iy = origin[1] + dy;
            if ((uint)iy < (uint)a.G.Height)
            {
                p0 = rowBase + ((long)iy * a.G.Width + dx) * a.G.InChannels;
                p1 = p0 + pixelStep; p2 = p1 + pixelStep; p3 = p2 + pixelStep; p4 = p3 + pixelStep; p5 = p4 + pixelStep;
            }
            else
            {
                p0 = p1 = p2 = p3 = p4 = p5 = zero;
            }
            return;
        }
        p0 = Pixel(a, origin, 0, dy, dx, zero);
        p1 = Pixel(a, origin, 1, dy, dx, zero);
        p2 = Pixel(a, origin, 2, dy, dx, zero);
        p3 = Pixel(a, origin, 3, dy, dx, zero);
        p4 = Pixel(a, origin, 4, dy, dx, zero);
        p5 = Pixel(a, origin, 5, dy, dx, zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TLoad>(in Args a, long pixel, int count, int block, float* zero, (int dy, int dx)[] taps)
        where TLoad : struct, ILaneLoad
    {
        var g = a.G;
        int m = g.InChannels, j = g.KxkPerFilter, part = g.Part, c = g.KernelSize / 2;
        int* origin = stackalloc int[3 * TilePixels];
        float* edge = stackalloc float[16 * TilePixels];   // a partial tile's results, before the valid part is copied

        // Each slot's image and top-left input position (image -1: past the chunk's end, reads zeros). One division
        // for the tile, then stepping: 64-bit divisions per slot cost more than a small layer's multiply-adds.
        int ox = (int)(pixel % g.OutWidth), rest = (int)(pixel / g.OutWidth);
        int oy = rest % g.OutHeight, image = rest / g.OutHeight;
        for (int slot = 0; slot < TilePixels; slot++)
        {
            origin[3 * slot] = slot < count ? image : -1;
            origin[3 * slot + 1] = oy * g.Stride - g.Padding;
            origin[3 * slot + 2] = ox * g.Stride - g.Padding;
            if (++ox == g.OutWidth)
            {
                ox = 0;
                if (++oy == g.OutHeight) { oy = 0; image++; }
            }
        }

        // Fast path: all six slots in one output row with every tap inside the image's width, so a tap's six input
        // pixels are equally spaced and only its row needs a bounds check.
        int width = (TilePixels - 1) * g.Stride;
        bool interior = origin[3 * (TilePixels - 1)] == origin[0] && origin[3 * (TilePixels - 1) + 1] == origin[1]
            && origin[2] >= 0 && origin[2] + width + g.KernelSize - 1 < g.Width;
        long pixelStep = (long)g.Stride * m;
        float* rowBase = a.Input + ((long)origin[0] * g.Height * g.Width + origin[2]) * m;

        var bias0 = Avx.LoadVector256(a.Bias + block * 16);
        var bias1 = Avx.LoadVector256(a.Bias + block * 16 + 8);
        Vector256<float> a00 = bias0, a01 = bias1, a10 = bias0, a11 = bias1, a20 = bias0, a21 = bias1;
        Vector256<float> a30 = bias0, a31 = bias1, a40 = bias0, a41 = bias1, a50 = bias0, a51 = bias1;

        // Centre tap: a dense 1x1 product over all M channels (scalar broadcast per pixel).
        SlotPixels(a, origin, c, c, zero, interior, rowBase, pixelStep, out float* p0, out float* p1, out float* p2,
            out float* p3, out float* p4, out float* p5);
        float* w = a.Centre + (long)block * m * 16;
        for (int k = 0; k < m; k++, w += 16)
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

        // Other taps: each lane's filter reads its own KxK channels, (n mod P) + P*j (see ILaneLoad).
        int laneBase = part >= 16 ? block * 16 % part : 0;
        w = a.OffCentre + (long)block * taps.Length * j * 16;
        foreach (var (dy, dx) in taps)
        {
            SlotPixels(a, origin, dy, dx, zero, interior, rowBase, pixelStep, out p0, out p1, out p2, out p3, out p4, out p5);
            p0 += laneBase; p1 += laneBase; p2 += laneBase; p3 += laneBase; p4 += laneBase; p5 += laneBase;
            // One offset for all six pixels: an add per step instead of six pointer updates.
            long end = (long)j * part;
            for (long o = 0; o < end; o += part, w += 16)
            {
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
        }

        // Stores stay in this method: a call here would make the JIT keep the accumulators on the stack too.
        float* y = a.Output + pixel * g.OutChannels + block * 16;
        int n = g.OutChannels, valid = Math.Min(16, n - block * 16);
        if (count == TilePixels && valid == 16)
        {
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
                y[(long)slot * n + l] = edge[slot * 16 + l];
    }
}
