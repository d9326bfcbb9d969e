using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// VGG-16 with BN for ImageNet in TorchVision's form (vgg16_bn, without conv biases since BN follows): 13
/// conv-BN-ReLU layers with 5 max-pools, 7x7 average pool, Linear 25088->4096, ReLU, dropout, Linear 4096->4096,
/// ReLU, dropout, Linear 4096->classes.
/// </summary>
public sealed class ImageNetVgg : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Sequential classifier;

    public ImageNetVgg(ConvOptions? options = null, int numClasses = 1000, int inChannels = 3) : base("VGG16")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        features = VggFeatures.Build(VggFeatures.Vgg16, inChannels, options ?? ConvOptions.Standard);
        avgpool = AdaptiveAvgPool2d(7);
        classifier = Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(inplace: true), Dropout(),
            Linear(4096, 4096), ReLU(inplace: true), Dropout(),
            Linear(4096, numClasses));
        RegisterComponents();
        ModelInit.Apply(this);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = avgpool.call(features.call(input)).flatten(1);
        return classifier.call(x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            avgpool.Dispose();
            classifier.Dispose();
        }
        base.Dispose(disposing);
    }
}
