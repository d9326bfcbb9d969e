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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TLoad>(in Args a, long pixel, int count, int block, float* zero, (int dy, int dx)[] taps)
        where TLoad : struct, ILaneLoad
    {
        var g = a.G;
        int m = g.InChannels, j = g.KxkPerFilter, part = g.Part, c = g.KernelSize / 2;

        // Each slot's image and top-left input position (image -1: past the chunk's end, reads zeros).
        int* origin = stackalloc int[3 * TilePixels];
        for (int slot = 0; slot < TilePixels; slot++)
        {
            long p = pixel + slot;
            int ox = (int)(p % g.OutWidth);
            long rest = p / g.OutWidth;
            origin[3 * slot] = slot < count ? (int)(rest / g.OutHeight) : -1;
            origin[3 * slot + 1] = (int)(rest % g.OutHeight) * g.Stride - g.Padding;
            origin[3 * slot + 2] = ox * g.Stride - g.Padding;
        }

        var bias0 = Avx.LoadVector256(a.Bias + block * 16);
        var bias1 = Avx.LoadVector256(a.Bias + block * 16 + 8);
        Vector256<float> a00 = bias0, a01 = bias1, a10 = bias0, a11 = bias1, a20 = bias0, a21 = bias1;
        Vector256<float> a30 = bias0, a31 = bias1, a40 = bias0, a41 = bias1, a50 = bias0, a51 = bias1;

        // Centre tap: a dense 1x1 product over all M channels (scalar broadcast per pixel).
        float* p0 = Pixel(a, origin, 0, c, c, zero);
        float* p1 = Pixel(a, origin, 1, c, c, zero);
        float* p2 = Pixel(a, origin, 2, c, c, zero);
        float* p3 = Pixel(a, origin, 3, c, c, zero);
        float* p4 = Pixel(a, origin, 4, c, c, zero);
        float* p5 = Pixel(a, origin, 5, c, c, zero);
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
            p0 = Pixel(a, origin, 0, dy, dx, zero) + laneBase;
            p1 = Pixel(a, origin, 1, dy, dx, zero) + laneBase;
            p2 = Pixel(a, origin, 2, dy, dx, zero) + laneBase;
            p3 = Pixel(a, origin, 3, dy, dx, zero) + laneBase;
            p4 = Pixel(a, origin, 4, dy, dx, zero) + laneBase;
            p5 = Pixel(a, origin, 5, dy, dx, zero) + laneBase;
            for (int k = 0; k < j; k++, w += 16, p0 += part, p1 += part, p2 += part, p3 += part, p4 += part, p5 += part)
            {
                var w0 = Avx.LoadVector256(w);
                var w1 = Avx.LoadVector256(w + 8);
                if (TLoad.Shared)
                {
                    var x = TLoad.First(p0); a00 = Fma.MultiplyAdd(w0, x, a00); a01 = Fma.MultiplyAdd(w1, x, a01);
                    x = TLoad.First(p1); a10 = Fma.MultiplyAdd(w0, x, a10); a11 = Fma.MultiplyAdd(w1, x, a11);
                    x = TLoad.First(p2); a20 = Fma.MultiplyAdd(w0, x, a20); a21 = Fma.MultiplyAdd(w1, x, a21);
                    x = TLoad.First(p3); a30 = Fma.MultiplyAdd(w0, x, a30); a31 = Fma.MultiplyAdd(w1, x, a31);
                    x = TLoad.First(p4); a40 = Fma.MultiplyAdd(w0, x, a40); a41 = Fma.MultiplyAdd(w1, x, a41);
                    x = TLoad.First(p5); a50 = Fma.MultiplyAdd(w0, x, a50); a51 = Fma.MultiplyAdd(w1, x, a51);
                }
                else
                {
                    a00 = Fma.MultiplyAdd(w0, TLoad.First(p0), a00); a01 = Fma.MultiplyAdd(w1, TLoad.Second(p0), a01);
                    a10 = Fma.MultiplyAdd(w0, TLoad.First(p1), a10); a11 = Fma.MultiplyAdd(w1, TLoad.Second(p1), a11);
                    a20 = Fma.MultiplyAdd(w0, TLoad.First(p2), a20); a21 = Fma.MultiplyAdd(w1, TLoad.Second(p2), a21);
                    a30 = Fma.MultiplyAdd(w0, TLoad.First(p3), a30); a31 = Fma.MultiplyAdd(w1, TLoad.Second(p3), a31);
                    a40 = Fma.MultiplyAdd(w0, TLoad.First(p4), a40); a41 = Fma.MultiplyAdd(w1, TLoad.Second(p4), a41);
                    a50 = Fma.MultiplyAdd(w0, TLoad.First(p5), a50); a51 = Fma.MultiplyAdd(w1, TLoad.Second(p5), a51);
                }
            }
        }

        float* y = a.Output + pixel * g.OutChannels + block * 16;
        int n = g.OutChannels, valid = Math.Min(16, n - block * 16);
        Store(y + 0L * n, a00, a01, valid); if (count > 1) Store(y + 1L * n, a10, a11, valid);
        if (count > 2) Store(y + 2L * n, a20, a21, valid); if (count > 3) Store(y + 3L * n, a30, a31, valid);
        if (count > 4) Store(y + 4L * n, a40, a41, valid); if (count > 5) Store(y + 5L * n, a50, a51, valid);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, Vector256<float> first, Vector256<float> second, int valid)
    {
        if (valid == 16)
        {
            Avx.Store(y, first);
            Avx.Store(y + 8, second);
            return;
        }
        float* lanes = stackalloc float[16];
        Avx.Store(lanes, first);
        Avx.Store(lanes + 8, second);
        for (int i = 0; i < valid; i++) y[i] = lanes[i];
    }
}
