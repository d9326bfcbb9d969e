using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Layers;

/// <summary>
/// The paper's DWC+PWC baseline (MobileNet's separable convolution without the BN and ReLU in between):
/// a depth-wise KxK convolution M -> M, then a point-wise convolution M -> N.
/// </summary>
public sealed class DepthwisePointwiseConv2d : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> dwc;
    private readonly Module<Tensor, Tensor> pwc;

    public DepthwisePointwiseConv2d(int inChannels, int outChannels, int kernelSize = 3, int stride = 1,
        int? padding = null, bool bias = false)
        : base(nameof(DepthwisePointwiseConv2d))
    {
        HetConvPattern.Validate(inChannels, outChannels, kernelSize, 1);
        dwc = Conv2d(inChannels, inChannels, kernelSize, stride: stride, padding: padding ?? kernelSize / 2, groups: inChannels, bias: false);
        pwc = Conv2d(inChannels, outChannels, 1, bias: bias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return pwc.call(dwc.call(input)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            dwc.Dispose();
            pwc.Dispose();
        }
        base.Dispose(disposing);
    }
}
