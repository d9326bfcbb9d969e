using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// ResNet-50's bottleneck (TorchVision's v1.5: the stride on the 3x3): 1x1 reduce, 3x3, 1x1 expand by 4, each
/// followed by BN, then SE when enabled, plus the shortcut, then ReLU. Only the 3x3 is of the options' kind.
/// </summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    public const int Expansion = 4;

    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Module<Tensor, Tensor> conv2;
    private readonly Module<Tensor, Tensor> bn2;
    private readonly Module<Tensor, Tensor> relu2;   // a module, so that ReluFusion can move it into conv2
    private readonly Module<Tensor, Tensor> conv3;
    private readonly Module<Tensor, Tensor> bn3;
    private readonly Module<Tensor, Tensor>? se;
    private readonly Module<Tensor, Tensor>? downsample;

    public Bottleneck(int inPlanes, int planes, int stride, ConvOptions options, Module<Tensor, Tensor>? downsample)
        : base(nameof(Bottleneck))
    {
        conv1 = Conv2d(inPlanes, planes, 1, bias: false);
        bn1 = BatchNorm2d(planes);
        conv2 = options.Conv(planes, planes, 3, stride);
        bn2 = BatchNorm2d(planes);
        relu2 = ReLU(inplace: true);
        conv3 = Conv2d(planes, planes * Expansion, 1, bias: false);
        bn3 = BatchNorm2d(planes * Expansion);
        se = options.SqueezeExcitationOn(planes * Expansion);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = bn1.call(conv1.call(input)).relu_();
        x = relu2.call(bn2.call(conv2.call(x)));
        x = bn3.call(conv3.call(x));
        if (se is not null) x = se.call(x);
        var identity = downsample is null ? input : downsample.call(input);
        return x.add_(identity).relu_().MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            conv2.Dispose();
            bn2.Dispose();
            relu2.Dispose();
            conv3.Dispose();
            bn3.Dispose();
            se?.Dispose();
            downsample?.Dispose();
        }
        base.Dispose(disposing);
    }
}
