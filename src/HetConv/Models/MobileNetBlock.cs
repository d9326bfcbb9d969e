using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// One MobileNet v1 block. With <see cref="ConvKind.DepthwisePointwise"/> it is MobileNet's own: depth-wise 3x3,
/// BN, ReLU, point-wise 1x1, BN, ReLU. With any other kind the depth-wise + point-wise pair becomes one layer of
/// that kind (the paper's MobileNet_P32: one HetConv layer), then BN, ReLU. SE, when enabled, comes last.
/// </summary>
public sealed class MobileNetBlock : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Module<Tensor, Tensor>? conv2;
    private readonly Module<Tensor, Tensor>? bn2;
    private readonly Module<Tensor, Tensor>? se;

    public MobileNetBlock(int inChannels, int outChannels, int stride, ConvOptions options) : base(nameof(MobileNetBlock))
    {
        if (options.Kind == ConvKind.DepthwisePointwise)
        {
            conv1 = Conv2d(inChannels, inChannels, 3, stride: stride, padding: 1, groups: inChannels, bias: false);
            bn1 = BatchNorm2d(inChannels);
            conv2 = Conv2d(inChannels, outChannels, 1, bias: false);
            bn2 = BatchNorm2d(outChannels);
        }
        else
        {
            conv1 = options.Conv(inChannels, outChannels, 3, stride);
            bn1 = BatchNorm2d(outChannels);
        }
        se = options.SqueezeExcitationOn(outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = bn1.call(conv1.call(input)).relu_();
        if (conv2 is not null) x = bn2!.call(conv2.call(x)).relu_();
        if (se is not null) x = se.call(x);
        return x.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            conv2?.Dispose();
            bn2?.Dispose();
            se?.Dispose();
        }
        base.Dispose(disposing);
    }
}
