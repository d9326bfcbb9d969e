using HetConv.Layers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HetConv.Benchmarking;

/// <summary>
/// A baseline: the exact shifted HetConv as P separate KxK convolutions, branch r on the strided input channels
/// r, r+P, ... producing filters r, r+P, ..., interleaved back, plus one 1x1 convolution. Needs P | N.
/// </summary>
public static class PBranchSlicing
{
    public static bool Supports(HetConv2d layer) =>
        layer.Arrangement == HetConvArrangement.Shifted && layer.OutChannels % layer.Part == 0;

    public static Tensor Forward(HetConv2d layer, Tensor input)
    {
        using var scope = NewDisposeScope();
        int p = layer.Part;
        var strides = new long[] { layer.Stride };
        var padding = new long[] { layer.Padding };
        var branches = new Tensor[p];
        for (int r = 0; r < p; r++)
        {
            var channels = input[.., TensorIndex.Slice(r, null, p)];
            var filters = layer.KxkWeight[TensorIndex.Slice(r, null, p)];
            branches[r] = F.conv2d(channels, filters, null, strides, padding);
        }
        var kxk = stack(branches, 2).flatten(1, 2);   // [B, N/P, P, H, W] -> filter i*P + r
        var ix = layer.IndicesOn(input.device);
        var pointwise = F.conv2d(input, layer.DensePointwiseWeight(ix).reshape(layer.OutChannels, layer.InChannels, 1, 1),
            layer.Bias, strides, new long[] { layer.Padding - layer.KernelSize / 2 });
        return (kxk + pointwise).MoveToOuterDisposeScope();
    }
}
