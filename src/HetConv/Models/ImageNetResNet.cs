using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// He et al.'s ImageNet ResNet in TorchVision's form (same module names, so state-dict keys line up): a standard
/// 7x7/2 stem, 3x3/2 max-pool, four stages at 64-128-256-512 planes with 1x1 conv + BN projection shortcuts,
/// average pool and a linear layer. ResNet-34 uses basic blocks [3, 4, 6, 3], ResNet-50 bottlenecks [3, 4, 6, 3].
/// </summary>
public sealed class ImageNetResNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Module<Tensor, Tensor> maxpool;
    private readonly Sequential layer1 = Sequential();
    private readonly Sequential layer2 = Sequential();
    private readonly Sequential layer3 = Sequential();
    private readonly Sequential layer4 = Sequential();
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Module<Tensor, Tensor> fc;

    private ImageNetResNet(string name, bool bottleneck, int[] blocks, ConvOptions? options, int numClasses, int inChannels)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        options ??= ConvOptions.Standard;
        int expansion = bottleneck ? Bottleneck.Expansion : 1;

        conv1 = Conv2d(inChannels, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        int inPlanes = 64;
        var stages = new[] { (layer1, 64, 1), (layer2, 128, 2), (layer3, 256, 2), (layer4, 512, 2) };
        for (int s = 0; s < stages.Length; s++)
        {
            var (layer, planes, stride) = stages[s];
            for (int i = 0; i < blocks[s]; i++)
            {
                int blockStride = i == 0 ? stride : 1;
                Sequential? downsample = blockStride != 1 || inPlanes != planes * expansion
                    ? Sequential(Conv2d(inPlanes, planes * expansion, 1, stride: blockStride, bias: false), BatchNorm2d(planes * expansion))
                    : null;
                layer.append(bottleneck
                    ? new Bottleneck(inPlanes, planes, blockStride, options, downsample)
                    : new BasicBlock(inPlanes, planes, blockStride, options, downsample));
                inPlanes = planes * expansion;
            }
        }
        avgpool = AdaptiveAvgPool2d(1);
        fc = Linear(512 * expansion, numClasses);
        RegisterComponents();
        ModelInit.Apply(this);
    }

    public static ImageNetResNet ResNet34(ConvOptions? options = null, int numClasses = 1000, int inChannels = 3) =>
        new("ResNet34", bottleneck: false, new[] { 3, 4, 6, 3 }, options, numClasses, inChannels);

    public static ImageNetResNet ResNet50(ConvOptions? options = null, int numClasses = 1000, int inChannels = 3) =>
        new("ResNet50", bottleneck: true, new[] { 3, 4, 6, 3 }, options, numClasses, inChannels);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = maxpool.call(bn1.call(conv1.call(input)).relu_());
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        x = avgpool.call(x).flatten(1);
        return fc.call(x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            maxpool.Dispose();
            layer1.Dispose();
            layer2.Dispose();
            layer3.Dispose();
            layer4.Dispose();
            avgpool.Dispose();
            fc.Dispose();
        }
        base.Dispose(disposing);
    }
}
