using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Layers;

/// <summary>
/// The paper's GWC+PWC baseline: a group-wise KxK convolution M -> M with G groups, then a point-wise
/// convolution M -> N. Two layers in sequence ("latency one"); stride and padding belong to the group-wise one.
/// </summary>
public sealed class GroupwisePointwiseConv2d : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> gwc;
    private readonly Module<Tensor, Tensor> pwc;

    public GroupwisePointwiseConv2d(int inChannels, int outChannels, int kernelSize = 3, int groups = 4,
        int stride = 1, int? padding = null, bool bias = false)
        : base(nameof(GroupwisePointwiseConv2d))
    {
        if (groups < 1 || inChannels % groups != 0)
            throw new ArgumentException(
                $"groups G = {groups} must be >= 1 and divide in_channels M = {inChannels}; valid: {string.Join(", ", HetConvPattern.ValidParts(inChannels))}.",
                nameof(groups));
        HetConvPattern.Validate(inChannels, outChannels, kernelSize, 1);
        Groups = groups;
        gwc = Conv2d(inChannels, inChannels, kernelSize, stride: stride, padding: padding ?? kernelSize / 2, groups: groups, bias: false);
        pwc = Conv2d(inChannels, outChannels, 1, bias: bias);
        RegisterComponents();
    }

    public int Groups { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return pwc.call(gwc.call(input)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            gwc.Dispose();
            pwc.Dispose();
        }
        base.Dispose(disposing);
    }
}
