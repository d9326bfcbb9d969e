using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// VGG-16 for CIFAR as in Li et al. ("Pruning filters for efficient convnets"), the paper's Table 1 network:
/// 13 conv-BN-ReLU layers with 5 max-pools, then Linear 512->512, BN1d, ReLU, Linear 512->classes.
/// </summary>
public sealed class CifarVgg : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Sequential classifier;

    public CifarVgg(ConvOptions? options = null, int numClasses = 10, int inChannels = 3) : base("VGG16Cifar")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        features = VggFeatures.Build(VggFeatures.Vgg16, inChannels, options ?? ConvOptions.Standard);
        // 1x1 after the fifth pool on 32x32 (an identity there); keeps other input sizes working.
        avgpool = AdaptiveAvgPool2d(1);
        classifier = Sequential(Linear(512, 512), BatchNorm1d(512), ReLU(inplace: true), Linear(512, numClasses));
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
