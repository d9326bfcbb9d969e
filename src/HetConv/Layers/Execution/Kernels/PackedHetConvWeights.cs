using System.Buffers;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// A shifted HetConv2d's weights in the NHWC kernels' layout (see <see cref="HetConvNhwcKernel"/>): filters in
/// blocks of 16 innermost, the last block padded with zero filters. Centre [blocks][M][16] holds every filter's
/// centre-tap weight on every channel (1x1 kernels and KxK centres); off-centre [blocks][K^2 - 1][M/P][16] the
/// KxK kernels' other taps in row-major tap order. Packed by plain loops over the parameters' memory: a dozen
/// libtorch calls would cost more than the packing itself on small layers, for every training step.
/// </summary>
internal sealed class PackedHetConvWeights : IDisposable
{
    private readonly IntPtr sourceStorage;

    private PackedHetConvWeights(int filters, int channels, int kxkPerFilter, int kernelSize, IntPtr sourceStorage)
    {
        this.sourceStorage = sourceStorage;
        int blocks = (filters + 15) / 16;
        CentreLength = blocks * channels * 16;
        OffCentreLength = blocks * (kernelSize * kernelSize - 1) * kxkPerFilter * 16;
        BiasLength = blocks * 16;
        Centre = Rent(CentreLength);
        OffCentre = Rent(OffCentreLength);
        Bias = Rent(BiasLength);
    }

    public float[] Centre { get; }
    public float[] OffCentre { get; }
    public float[] Bias { get; }
    public int CentreLength { get; }
    public int OffCentreLength { get; }
    public int BiasLength { get; }

    /// <summary>The layer's forward weights.</summary>
    public static unsafe PackedHetConvWeights From(HetConv2d layer)
    {
        var p = layer.Pattern;
        int n = p.OutChannels, m = p.InChannels, part = p.Part, j = p.KxkPerFilter, taps = p.KernelSize * p.KernelSize;
        int centreTap = taps / 2;
        var packed = new PackedHetConvWeights(n, m, j, p.KernelSize, StorageOf(layer));
        using var scope = NewDisposeScope();
        var kxk = Floats(layer.KxkWeight);          // [N, J, K*K]
        var pointwise = Floats(layer.PointwiseWeight); // [N, M - J]
        for (int f = 0; f < n; f++)
        {
            int block = f / 16, lane = f % 16, r = f % part, k = 0;
            for (int c = 0; c < m; c++)
            {
                float value = c % part == r ? kxk[(f * j + c / part) * taps + centreTap] : pointwise[f * (m - j) + k++];
                packed.Centre[(block * m + c) * 16 + lane] = value;
            }
            for (int t = 0, tap = 0; tap < taps; tap++)
            {
                if (tap == centreTap) continue;
                for (int q = 0; q < j; q++)
                    packed.OffCentre[((block * (taps - 1) + t) * j + q) * 16 + lane] = kxk[(f * j + q) * taps + tap];
                t++;
            }
        }
        if (layer.Bias is not null)
            Floats(layer.Bias).Slice(0, n).CopyTo(packed.Bias);
        return packed;
    }

    /// <summary>
    /// The weights of the input gradient of a stride-1 layer, itself a shifted HetConv N -> M with part P (channel m
    /// gets KxK kernels from the filters n = m mod P + P i) and flipped kernels. Needs P | N.
    /// </summary>
    public static PackedHetConvWeights ForInputGradient(HetConv2d layer)
    {
        var p = layer.Pattern;
        int n = p.OutChannels, m = p.InChannels, part = p.Part, j = p.KxkPerFilter, taps = p.KernelSize * p.KernelSize;
        int centreTap = taps / 2, transposedJ = n / part;
        var packed = new PackedHetConvWeights(m, n, transposedJ, p.KernelSize, IntPtr.Zero);
        using var scope = NewDisposeScope();
        var kxk = Floats(layer.KxkWeight);
        var pointwise = Floats(layer.PointwiseWeight);
        for (int f = 0; f < n; f++)
        {
            int r = f % part, k = 0;
            for (int c = 0; c < m; c++)
            {
                // Transposed: "filter" c, "channel" f.
                float value = c % part == r ? kxk[(f * j + c / part) * taps + centreTap] : pointwise[f * (m - j) + k++];
                packed.Centre[((c / 16) * n + f) * 16 + c % 16] = value;
                if (c % part != r) continue;
                // f = r + P i is the i-th KxK "channel" of c; taps flip.
                int i = f / part;
                for (int t = 0, tap = 0; tap < taps; tap++)
                {
                    if (tap == centreTap) continue;
                    packed.OffCentre[(((c / 16) * (taps - 1) + t) * transposedJ + i) * 16 + c % 16] =
                        kxk[(f * j + c / part) * taps + (taps - 1 - tap)];
                    t++;
                }
            }
        }
        return packed;
    }

    /// <summary>
    /// Writes gradients in the packed layout (as the weight-gradient kernel produces them) into the parameters'
    /// layouts: kxk [N, M/P, K, K] and pointwise [N, M - M/P].
    /// </summary>
    public static void Unpack(HetConvPattern p, ReadOnlySpan<float> centre, ReadOnlySpan<float> offCentre,
        Span<float> kxk, Span<float> pointwise)
    {
        int n = p.OutChannels, m = p.InChannels, part = p.Part, j = p.KxkPerFilter, taps = p.KernelSize * p.KernelSize;
        int centreTap = taps / 2;
        for (int f = 0; f < n; f++)
        {
            int block = f / 16, lane = f % 16, r = f % part, k = 0;
            for (int c = 0; c < m; c++)
            {
                float value = centre[(block * m + c) * 16 + lane];
                if (c % part == r) kxk[(f * j + c / part) * taps + centreTap] = value;
                else pointwise[f * (m - j) + k++] = value;
            }
            for (int t = 0, tap = 0; tap < taps; tap++)
            {
                if (tap == centreTap) continue;
                for (int q = 0; q < j; q++)
                    kxk[(f * j + q) * taps + tap] = offCentre[((block * (taps - 1) + t) * j + q) * 16 + lane];
                t++;
            }
        }
    }

    /// <summary>False once the layer's weights live elsewhere (moved to another device or dtype, or replaced).</summary>
    public bool PackedFrom(HetConv2d layer) => StorageOf(layer) == sourceStorage;

    private static IntPtr StorageOf(HetConv2d layer) => layer.KxkWeight.storage<float>().data_ptr();

    /// <summary>A parameter's values as float32 in CPU memory (a view when it already is), valid in the caller's scope.</summary>
    private static Span<float> Floats(Tensor parameter) =>
        MemoryMarshal.Cast<byte, float>(parameter.detach().to(ScalarType.Float32, CPU).contiguous().bytes);

    private static float[] Rent(int length)
    {
        var array = ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
        Array.Clear(array, 0, length);   // padding filters must read as zeros
        return array;
    }

    public void Dispose()
    {
        ArrayPool<float>.Shared.Return(Centre);
        ArrayPool<float>.Shared.Return(OffCentre);
        ArrayPool<float>.Shared.Return(Bias);
    }
}
