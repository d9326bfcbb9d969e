using HetConv.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// ResNet's basic block: conv-BN-ReLU-conv-BN (then SE when enabled), plus the shortcut, then ReLU. Both 3x3
/// convolutions are of the options' kind; the shortcut (option A for CIFAR, 1x1 conv + BN for ImageNet) is the
/// caller's, null for the identity.
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Module<Tensor, Tensor> relu1;   // a module, so that ReluFusion can move it into conv1
    private readonly Module<Tensor, Tensor> conv2;
    private readonly Module<Tensor, Tensor> bn2;
    private readonly Module<Tensor, Tensor>? se;
    private readonly Module<Tensor, Tensor>? downsample;

    public BasicBlock(int inPlanes, int planes, int stride, ConvOptions options, Module<Tensor, Tensor>? downsample)
        : base(nameof(BasicBlock))
    {
        conv1 = options.Conv(inPlanes, planes, 3, stride);
        bn1 = BatchNorm2d(planes);
        relu1 = ReLU(inplace: true);
        conv2 = options.Conv(planes, planes, 3);
        bn2 = BatchNorm2d(planes);
        se = options.SqueezeExcitationOn(planes);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv1.call(input);
        // Training on channels-last data: BN, the addition and ReLU as one node each (see TrainingBatchNorm).
        x = bn1 is BatchNorm2d norm1 && TrainingBatchNorm.Supports(norm1, x)
            ? TrainingBatchNorm.Apply(norm1, x, relu: true)
            : relu1.call(bn1.call(x));
        var identity = downsample is null ? input : downsample.call(input);
        // BN folded (see InferenceFolding): the last HetConv adds the shortcut and applies ReLU as it stores.
        if (conv2 is HetConv2d last && bn2 is Identity && se is null && !last.ReluOutput)
            return last.ForwardAddRelu(x, identity).MoveToOuterDisposeScope();
        x = conv2.call(x);
        if (se is null && bn2 is BatchNorm2d norm2 && TrainingBatchNorm.Supports(norm2, x, identity))
            return TrainingBatchNorm.Apply(norm2, x, identity, relu: true).MoveToOuterDisposeScope();
        x = bn2.call(x);
        if (se is not null) x = se.call(x);
        return x.add_(identity).relu_().MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            relu1.Dispose();
            conv2.Dispose();
            bn2.Dispose();
            se?.Dispose();
            downsample?.Dispose();
        }
        base.Dispose(disposing);
    }
}
