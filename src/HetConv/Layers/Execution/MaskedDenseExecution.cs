using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HetConv.Layers.Execution;

/// <summary>
/// A dense convolution with <see cref="HetConv2d.DenseWeight"/>: the full cost of a standard convolution.
/// A baseline for benchmarks and a cross-check, never a sensible default.
/// </summary>
internal sealed class MaskedDenseExecution : IHetConvExecution
{
    public string Name => "masked-dense";

    public Tensor Forward(HetConv2d layer, Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = F.conv2d(input, layer.DenseWeight(), layer.Bias,
            strides: new long[] { layer.Stride }, padding: new long[] { layer.Padding });
        return output.MoveToOuterDisposeScope();
    }
}
