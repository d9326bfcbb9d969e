using static TorchSharp.torch;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// A HetConv2d's weights in the NHWC kernel's layout (see <see cref="HetConvNhwcKernel"/>), float32, contiguous:
/// filters padded with zero filters to a multiple of 16 and grouped in blocks of 16 innermost.
/// </summary>
internal sealed class PackedHetConvWeights : IDisposable
{
    private PackedHetConvWeights(Tensor centre, Tensor offCentre, Tensor bias)
    {
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

    public static PackedHetConvWeights From(HetConv2d layer)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ix = layer.IndicesOn(layer.KxkWeight.device);
        int n = layer.OutChannels, m = layer.InChannels, k = layer.KernelSize, j = layer.Pattern.KxkPerFilter;
        int padded = (n + 15) / 16 * 16, blocks = padded / 16, c = k / 2;
        var kxk = layer.KxkWeight.detach().to(ScalarType.Float32);

        var centre = layer.DensePointwiseWeight(ix).to(ScalarType.Float32)
            .scatter(1, ix.KxkChannels, kxk[.., .., c, c]);                        // [N, M]
        centre = PadFilters(centre, padded).reshape(blocks, 16, m).permute(0, 2, 1).contiguous();

        var offTaps = Enumerable.Range(0, k * k).Where(t => t != c * k + c).Select(t => (long)t).ToArray();
        var offCentre = kxk.reshape(n, j, k * k).index_select(2, tensor(offTaps, device: kxk.device)); // [N, J, T]
        offCentre = PadFilters(offCentre, padded).reshape(blocks, 16, j, offTaps.Length).permute(0, 3, 2, 1).contiguous();

        var bias = layer.Bias is null
            ? zeros(padded, dtype: ScalarType.Float32, device: kxk.device)
            : PadFilters(layer.Bias.detach().to(ScalarType.Float32), padded).contiguous();

        return new PackedHetConvWeights(
            centre.DetachFromDisposeScope(), offCentre.DetachFromDisposeScope(), bias.DetachFromDisposeScope());
    }

    private static Tensor PadFilters(Tensor perFilter, int padded)
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
