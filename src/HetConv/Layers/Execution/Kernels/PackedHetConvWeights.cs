using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    private PackedHetConvWeights(int filters, int channels, int kxkPerFilter, int kernelSize)
    {
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
        var packed = new PackedHetConvWeights(n, m, j, p.KernelSize);
        using var scope = NewDisposeScope();
        var kxk = Floats(layer.KxkWeight);          // [N, J, K*K]
        var pointwise = Floats(layer.PointwiseWeight); // [N, M - J]
        packed.SourceFingerprint = Fingerprint(layer);
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
        var packed = new PackedHetConvWeights(m, n, transposedJ, p.KernelSize);
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

    /// <summary>A fingerprint of the weights packed here (see <see cref="Fingerprint"/>).</summary>
    public ulong SourceFingerprint { get; private set; }

    /// <summary>Whether the layer's parameters still hold exactly the values packed here.</summary>
    public bool PackedFrom(HetConv2d layer) => Fingerprint(layer) == SourceFingerprint;

    /// <summary>
    /// A fingerprint of a layer's parameter values: 8 lanes of a 32-bit multiplicative hash over the raw bits, so
    /// any in-place change (an optimizer step, a copy_, a mul_) changes it with overwhelming probability. One pass
    /// over the weights, cheaper than packing them again; libtorch's version counters are not exposed by TorchSharp.
    /// </summary>
    public static ulong Fingerprint(HetConv2d layer)
    {
        using var scope = NewDisposeScope();
        ulong hash = Fingerprint(Floats(layer.KxkWeight), 0);
        hash = Fingerprint(Floats(layer.PointwiseWeight), hash);
        return layer.Bias is null ? hash : Fingerprint(Floats(layer.Bias), hash);
    }

    private static ulong Fingerprint(ReadOnlySpan<float> values, ulong seed)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var prime = Vector256.Create(16777619u);
        var acc = Vector256.Create((uint)seed ^ 2166136261u, (uint)(seed >> 32), 3, 4, 5, 6, 7, 8);
        int i = 0;
        for (; i + 8 <= bits.Length; i += 8)
            acc = acc * prime ^ Vector256.Create(bits.Slice(i, 8));
        ulong hash = (ulong)bits.Length;
        for (int lane = 0; lane < 8; lane++) hash = hash * 1099511628211UL ^ acc.GetElement(lane);
        for (; i < bits.Length; i++) hash = hash * 1099511628211UL ^ bits[i];
        return hash;
    }

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
