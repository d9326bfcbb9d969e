using HetConv.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// He et al.'s CIFAR ResNet of depth 6n+2 (20, 32, 44, 56, 110): a standard 3x3 stem to 16 channels, three
/// stages of n basic blocks at 16, 32 and 64 channels (the last two starting with stride 2), option-A shortcuts,
/// global average pooling and one linear layer. Works for any input size (e.g. 1x28x28).
/// </summary>
public sealed class CifarResNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Sequential layer1 = Sequential();
    private readonly Sequential layer2 = Sequential();
    private readonly Sequential layer3 = Sequential();
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Module<Tensor, Tensor> fc;

    public CifarResNet(int depth, ConvOptions? options = null, int numClasses = 10, int inChannels = 3)
        : base($"ResNet{depth}")
    {
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new ArgumentException($"CIFAR ResNet depth {depth} must be 6n+2 with n >= 1 (20, 32, 44, 56, 110).", nameof(depth));
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        options ??= ConvOptions.Standard;
        int blocks = (depth - 2) / 6;
        Depth = depth;

        conv1 = Conv2d(inChannels, 16, 3, padding: 1, bias: false);
        bn1 = BatchNorm2d(16);
        int inPlanes = 16;
        foreach (var (layer, planes, stride) in new[] { (layer1, 16, 1), (layer2, 32, 2), (layer3, 64, 2) })
        {
            for (int i = 0; i < blocks; i++)
            {
                int blockStride = i == 0 ? stride : 1;
                var shortcut = blockStride != 1 || inPlanes != planes ? new ZeroPadShortcut(inPlanes, planes, blockStride) : null;
                layer.append(new BasicBlock(inPlanes, planes, blockStride, options, shortcut));
                inPlanes = planes;
            }
        }
        avgpool = AdaptiveAvgPool2d(1);
        fc = Linear(64, numClasses);
        RegisterComponents();
        ModelInit.Apply(this);
    }

    public int Depth { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // Channels-last from the stem on, whatever the input's layout (a 1-channel image has none to give): the
        // layout the blocks' convolutions and TrainingBatchNorm run fastest in, for either convolution kind.
        var x = conv1.call(input).ToChannelsLast();
        x = bn1 is BatchNorm2d norm && TrainingBatchNorm.Supports(norm, x)
            ? TrainingBatchNorm.Apply(norm, x, relu: true)
            : bn1.call(x).relu_();
        x = layer3.call(layer2.call(layer1.call(x)));
        x = avgpool.call(x).flatten(1);
        return fc.call(x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            layer1.Dispose();
            layer2.Dispose();
            layer3.Dispose();
            avgpool.Dispose();
            fc.Dispose();
        }
        base.Dispose(disposing);
    }
}
