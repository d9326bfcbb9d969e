using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HetConv.Layers.Execution;

/// <summary>
/// One grouped KxK convolution (P groups) for all KxK kernels plus one 1x1 convolution for all 1x1 kernels, summed.
/// The shifted arrangement is realised exactly: input channels are gathered into group order, grouped outputs
/// are scattered back to filter order, and the 1x1 weight is zero on each filter's KxK channels.
/// Costs two extra channel permutations for the shifted arrangement (none for blocked) and computes the 1x1
/// branch over all M channels, M/P more per filter than the paper counts.
/// </summary>
internal sealed class TwoBranchExecution : IHetConvExecution
{
    public string Name => "two-branch";

    public Tensor Forward(HetConv2d layer, Tensor input)
    {
        using var scope = NewDisposeScope();
        var ix = layer.IndicesOn(input.device);
        var pattern = layer.Pattern;

        var grouped = ix.GroupedInputOrder is null ? input : input.index_select(1, ix.GroupedInputOrder);
        var output = F.conv2d(grouped, layer.GroupedKxkWeight(ix), null,
            strides: new long[] { layer.Stride }, padding: new long[] { layer.Padding }, groups: pattern.Part);
        if (ix.SlotOfFilter is not null) output = output.index_select(1, ix.SlotOfFilter);

        if (pattern.PointwisePerFilter > 0)
        {
            var pointwise = F.conv2d(CentreTapInput(input, layer), layer.DensePointwiseWeight(ix).reshape(
                pattern.OutChannels, pattern.InChannels, 1, 1), layer.Bias,
                strides: new long[] { layer.Stride }, padding: new long[] { Math.Max(0, layer.Padding - pattern.KernelSize / 2) });
            output = output.add_(pointwise);
        }
        else if (layer.Bias is not null)
        {
            output = output.add_(layer.Bias.reshape(1, -1, 1, 1));
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A 1x1 kernel acts as the KxK kernel's centre tap, which sits K/2 - padding pixels inside the unpadded input.
    /// With padding >= K/2 the 1x1 convolution pads by the difference instead; this crops the other case.
    /// </summary>
    internal static Tensor CentreTapInput(Tensor input, HetConv2d layer)
    {
        long crop = layer.KernelSize / 2 - layer.Padding;
        if (crop <= 0) return input;
        return input[.., .., TensorIndex.Slice(crop, input.shape[2] - crop), TensorIndex.Slice(crop, input.shape[3] - crop)];
    }
}
