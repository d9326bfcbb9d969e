using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using HetConv.Runtime;
using static TorchSharp.torch;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// A shifted HetConv2d's weights in the NHWC kernels' layout (see <see cref="HetConvNhwcKernel"/>): filters in
/// blocks of 16 innermost, the last block padded with zero filters. Centre [blocks][M][16] holds every filter's
/// centre-tap weight on every channel (1x1 kernels and KxK centres); off-centre [blocks][K^2 - 1][M/P][16] the
/// KxK kernels' other taps in row-major tap order. Packed by plain loops over the parameters' memory: a dozen
/// libtorch calls would cost more than the packing itself on small layers, for every training step.
/// </summary>
internal sealed class PackedHetConvWeights : SharedWeights
{
    private PackedHetConvWeights(int filters, int channels, int kxkPerFilter, int kernelSize)
    {
        int blocks = (filters + 15) / 16;
        CentreLength = blocks * channels * 16;
        OffCentreLength = blocks * (kernelSize * kernelSize - 1) * kxkPerFilter * 16;
        BiasLength = blocks * 16;
        // Every lane of a real filter is written; only a last partial block's padding filters must read as zeros.
        bool partialBlock = filters % 16 != 0;
        centre = new AlignedFloats(CentreLength, partialBlock);
        offCentre = new AlignedFloats(OffCentreLength, partialBlock);
        bias = new AlignedFloats(BiasLength, clear: true);
    }

    private readonly AlignedFloats centre, offCentre, bias;

    public unsafe float* Centre => centre.Pointer;
    public unsafe float* OffCentre => offCentre.Pointer;
    public unsafe float* Bias => bias.Pointer;
    public int CentreLength { get; }
    public int OffCentreLength { get; }
    public int BiasLength { get; }

    /// <summary>
    /// The layer's forward weights; with <paramref name="fingerprint"/>, their <see cref="SourceFingerprint"/> too
    /// (taken first, so a change made meanwhile shows as a mismatch).
    /// </summary>
    public static unsafe PackedHetConvWeights From(HetConv2d layer, int threads, bool fingerprint = false)
    {
        var p = layer.Pattern;
        var packed = new PackedHetConvWeights(p.OutChannels, p.InChannels, p.KxkPerFilter, p.KernelSize);
        if (fingerprint) packed.SourceFingerprint = Fingerprint(layer);
        using var scope = NewDisposeScope();
        fixed (float* kxk = Floats(layer.KxkWeight), pointwise = Floats(layer.PointwiseWeight))
        {
            var cells = new FilterCells(p, kxk, pointwise, packed.Centre, packed.OffCentre);
            ForEachFilter(p.OutChannels, threads, f => cells.Copy(f, toPacked: true));
        }
        if (layer.Bias is not null)
            Floats(layer.Bias).Slice(0, p.OutChannels).CopyTo(new Span<float>(packed.Bias, p.OutChannels));
        return packed;
    }

    /// <summary>
    /// Writes gradients in the packed layout (as the weight-gradient kernel produces them) into the parameters'
    /// layouts: kxk [N, M/P, K, K] and pointwise [N, M - M/P].
    /// </summary>
    public static unsafe void Unpack(HetConvPattern p, float* centre, float* offCentre, float* kxk, float* pointwise, int threads)
    {
        var cells = new FilterCells(p, kxk, pointwise, centre, offCentre);
        ForEachFilter(p.OutChannels, threads, f => cells.Copy(f, toPacked: false));
    }

    /// <summary>
    /// Where one filter's weights live in the parameters and in the packed layout. Filter f's centre cells are
    /// [block][c][lane] for every channel c (its KxK centre where c mod P = f mod P, else its next 1x1 weight), its
    /// off-centre cells [block][t][q][lane]: consecutive cells are 16 floats apart, so no index needs a division.
    /// </summary>
    private readonly unsafe struct FilterCells(HetConvPattern p, float* kxk, float* pointwise, float* centre, float* offCentre)
    {
        private readonly HetConvPattern pattern = p;
        private readonly nint kxk = (nint)kxk, pointwise = (nint)pointwise, centre = (nint)centre, offCentre = (nint)offCentre;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Copy(int f, bool toPacked)
        {
            int m = pattern.InChannels, part = pattern.Part, j = pattern.KxkPerFilter, taps = pattern.KernelSize * pattern.KernelSize;
            int centreTap = taps / 2, r = f % part;
            float* kf = (float*)kxk + (long)f * j * taps, pf = (float*)pointwise + (long)f * (m - j);
            float* cell = (float*)centre + (long)(f / 16) * m * 16 + f % 16;
            for (int c = 0, residue = 0, q = 0; c < m; c++, cell += 16)
            {
                float* source = residue == r ? kf + q++ * taps + centreTap : pf++;
                if (toPacked) *cell = *source; else *source = *cell;
                if (++residue == part) residue = 0;
            }
            cell = (float*)offCentre + (long)(f / 16) * (taps - 1) * j * 16 + f % 16;
            for (int tap = 0; tap < taps; tap++)
            {
                if (tap == centreTap) continue;
                for (int q = 0; q < j; q++, cell += 16)
                {
                    if (toPacked) *cell = kf[q * taps + tap]; else kf[q * taps + tap] = *cell;
                }
            }
        }
    }

    /// <summary>
    /// The weights of the input gradient of a stride-1 layer, itself a shifted HetConv N -> M with part P (channel m
    /// gets KxK kernels from the filters n = m mod P + P i) and flipped kernels. Needs P | N.
    /// </summary>
    public static unsafe PackedHetConvWeights ForInputGradient(HetConv2d layer, int threads)
    {
        var p = layer.Pattern;
        int n = p.OutChannels, m = p.InChannels, part = p.Part, j = p.KxkPerFilter, taps = p.KernelSize * p.KernelSize;
        int centreTap = taps / 2, transposedJ = n / part;
        var packed = new PackedHetConvWeights(m, n, transposedJ, p.KernelSize);
        using var scope = NewDisposeScope();
        fixed (float* kxkPtr = Floats(layer.KxkWeight), pointwisePtr = Floats(layer.PointwiseWeight))
        {
            nint kxkAddress = (nint)kxkPtr, pointwiseAddress = (nint)pointwisePtr;
            nint centreAddress = (nint)packed.Centre, offCentreAddress = (nint)packed.OffCentre;
            // Block b holds transposed "filters" (input channels) c = 16 b + lane; "channel" f runs over all filters.
            ForEachBlock(m, threads, block =>
            {
                float* kxk = (float*)kxkAddress, pointwise = (float*)pointwiseAddress;
                float* centre = (float*)centreAddress + (long)block * n * 16;
                float* offCentre = (float*)offCentreAddress + (long)block * (taps - 1) * transposedJ * 16;
                int first = block * 16, lanes = Math.Min(16, m - first);
                for (int f = 0; f < n; f++)
                {
                    int r = f % part, i = f / part;
                    float* kf = kxk + (long)f * j * taps, pf = pointwise + (long)f * (m - j);
                    for (int lane = 0; lane < lanes; lane++)
                    {
                        int c = first + lane, residue = c % part, q = c / part;
                        if (residue != r)
                        {
                            // Filter f's 1x1 weights skip its KxK channels r, r + P, ... below c.
                            centre[f * 16 + lane] = pf[c - q - (residue > r ? 1 : 0)];
                            continue;
                        }
                        centre[f * 16 + lane] = kf[q * taps + centreTap];
                        for (int t = 0, tap = 0; tap < taps; tap++)
                        {
                            if (tap == centreTap) continue;
                            offCentre[((long)t * transposedJ + i) * 16 + lane] = kf[q * taps + (taps - 1 - tap)];
                            t++;
                        }
                    }
                }
            });
        }
        return packed;
    }

    /// <summary>Runs <paramref name="perBlock"/> for every block of 16 filters, blocks shared out among the threads.</summary>
    private static void ForEachBlock(int filters, int threads, Action<int> perBlock) =>
        OpenMpTeam.ForEachPiece((filters + 15) / 16, threads, perBlock);

    private static void ForEachFilter(int filters, int threads, Action<int> perFilter) =>
        ForEachBlock(filters, threads, block =>
        {
            for (int f = block * 16; f < Math.Min(filters, block * 16 + 16); f++) perFilter(f);
        });

    /// <summary>A fingerprint of the weights packed here (see <see cref="Fingerprint"/>), for whoever caches them.</summary>
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong Fingerprint(ReadOnlySpan<float> values, ulong seed)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var prime = Vector256.Create(16777619u);
        // Four independent chains: one chain waits on its multiply every step and ran at a quarter of the speed,
        // which was 5% of a 512-channel 2x2 layer's forward pass at batch 64.
        var acc0 = Vector256.Create((uint)seed ^ 2166136261u, (uint)(seed >> 32), 3, 4, 5, 6, 7, 8);
        var acc1 = acc0 + Vector256.Create(8u);
        var acc2 = acc0 + Vector256.Create(16u);
        var acc3 = acc0 + Vector256.Create(24u);
        int i = 0;
        for (; i + 32 <= bits.Length; i += 32)
        {
            acc0 = acc0 * prime ^ Vector256.Create(bits.Slice(i, 8));
            acc1 = acc1 * prime ^ Vector256.Create(bits.Slice(i + 8, 8));
            acc2 = acc2 * prime ^ Vector256.Create(bits.Slice(i + 16, 8));
            acc3 = acc3 * prime ^ Vector256.Create(bits.Slice(i + 24, 8));
        }
        for (; i + 8 <= bits.Length; i += 8)
            acc0 = acc0 * prime ^ Vector256.Create(bits.Slice(i, 8));
        var acc = ((acc0 * prime ^ acc1) * prime ^ acc2) * prime ^ acc3;
        ulong hash = (ulong)bits.Length;
        for (int lane = 0; lane < 8; lane++) hash = hash * 1099511628211UL ^ acc.GetElement(lane);
        for (; i < bits.Length; i++) hash = hash * 1099511628211UL ^ bits[i];
        return hash;
    }

    /// <summary>A parameter's values as float32 in CPU memory (a view when it already is), valid in the caller's scope.</summary>
    private static Span<float> Floats(Tensor parameter) =>
        MemoryMarshal.Cast<byte, float>(parameter.detach().to(ScalarType.Float32, CPU).contiguous().bytes);

    protected override void Free()
    {
        centre.Dispose();
        offCentre.Dispose();
        bias.Dispose();
    }
}
