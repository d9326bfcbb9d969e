using static TorchSharp.torch;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// A HetConv2d's weights in the NHWC kernel's layout (see <see cref="HetConvNhwcKernel"/>), float32, contiguous:
/// filters padded with zero filters to a multiple of 16 and grouped in blocks of 16 innermost.
/// </summary>
internal sealed class PackedHetConvWeights : IDisposable
{
    private readonly IntPtr sourceStorage;

    private PackedHetConvWeights(Tensor centre, Tensor offCentre, Tensor bias, IntPtr sourceStorage)
    {
        this.sourceStorage = sourceStorage;
        Centre = centre;
        OffCentre = offCentre;
        Bias = bias;
    }

    /// <summary>[blocks, M, 16]: every filter's centre-tap weight on every channel (1x1 kernels and KxK centres).</summary>
    public Tensor Centre { get; }

    /// <summary>[blocks, K^2 - 1, M/P, 16]: the KxK kernels' other taps, row-major tap order.</summary>
    public Tensor OffCentre { get; }

    /// <summary>[blocks * 16].</summary>
    public Tensor Bias { get; }

    /// <summary>The layer's forward weights.</summary>
    public static PackedHetConvWeights From(HetConv2d layer)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var kxk = layer.KxkWeight.detach().to(ScalarType.Float32);
        var bias = layer.Bias?.detach().to(ScalarType.Float32);
        return Pack(CentreTaps(layer), kxk, bias, StorageOf(layer));
    }

    /// <summary>
    /// The weights of the input gradient of a stride-1 layer, which is itself a shifted HetConv N -> M with part P
    /// (input channel m gets KxK kernels from the filters n = m mod P + P j) and flipped kernels. Needs P | N.
    /// </summary>
    public static PackedHetConvWeights ForInputGradient(HetConv2d layer)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int n = layer.OutChannels, p = layer.Part, j = layer.Pattern.KxkPerFilter, k = layer.KernelSize;
        // kxk[n = i*P + r, jm] holds the kernel on channel m = jm*P + r; the transposed layer wants [m, i].
        var transposed = layer.KxkWeight.detach().to(ScalarType.Float32)
            .reshape(n / p, p, j, k, k).permute(2, 1, 0, 3, 4).reshape(layer.InChannels, n / p, k, k)
            .flip(2, 3);
        return Pack(CentreTaps(layer).t(), transposed, null, IntPtr.Zero);
    }

    /// <summary>[N, M]: each filter's weight on each channel at the centre tap.</summary>
    private static Tensor CentreTaps(HetConv2d layer)
    {
        var ix = layer.IndicesOn(layer.KxkWeight.device);
        int c = layer.KernelSize / 2;
        return layer.DensePointwiseWeight(ix).detach().to(ScalarType.Float32)
            .scatter(1, ix.KxkChannels, layer.KxkWeight.detach().to(ScalarType.Float32)[.., .., c, c]);
    }

    /// <param name="centre">[N, M]</param>
    /// <param name="kxk">[N, J, K, K]</param>
    /// <param name="bias">[N] or null</param>
    private static PackedHetConvWeights Pack(Tensor centre, Tensor kxk, Tensor? bias, IntPtr source)
    {
        long n = kxk.shape[0], j = kxk.shape[1], k = kxk.shape[2], m = centre.shape[1];
        long padded = (n + 15) / 16 * 16, blocks = padded / 16, c = k / 2;
        var packedCentre = PadFilters(centre, padded).reshape(blocks, 16, m).permute(0, 2, 1).contiguous();

        var offTaps = OffCentreTaps((int)k);
        var offCentre = kxk.reshape(n, j, k * k).index_select(2, tensor(offTaps, device: kxk.device)); // [N, J, T]
        offCentre = PadFilters(offCentre, padded).reshape(blocks, 16, j, offTaps.Length).permute(0, 3, 2, 1).contiguous();

        var packedBias = bias is null
            ? zeros(padded, dtype: ScalarType.Float32, device: kxk.device)
            : PadFilters(bias, padded).contiguous();
        return new PackedHetConvWeights(packedCentre.DetachFromDisposeScope(), offCentre.DetachFromDisposeScope(),
            packedBias.DetachFromDisposeScope(), source);
    }

    /// <summary>Row-major indices of a KxK kernel's taps without the centre: the kernels' tap order.</summary>
    public static long[] OffCentreTaps(int kernelSize) =>
        Enumerable.Range(0, kernelSize * kernelSize).Where(t => t != kernelSize * kernelSize / 2).Select(t => (long)t).ToArray();

    /// <summary>False once the layer's weights live elsewhere (moved to another device or dtype, or replaced).</summary>
    public bool PackedFrom(HetConv2d layer) => StorageOf(layer) == sourceStorage;

    private static IntPtr StorageOf(HetConv2d layer) => layer.KxkWeight.storage<float>().data_ptr();

    internal static Tensor PadFilters(Tensor perFilter, long padded)
    {
        long missing = padded - perFilter.shape[0];
        if (missing == 0) return perFilter;
        var shape = perFilter.shape.ToArray();
        shape[0] = missing;
        return cat(new[] { perFilter, zeros(shape, dtype: perFilter.dtype, device: perFilter.device) }, 0);
    }

    public void Dispose()
    {
        Centre.Dispose();
        OffCentre.Dispose();
        Bias.Dispose();
    }
}
