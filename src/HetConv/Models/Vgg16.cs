using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// VGG-16 with BN: 13 conv-BN-ReLU layers (SE after each when enabled) with 5 max-pools, the first convolution
/// standard and the rest of the options' kind, then a classifier that depends on the form:
/// <list type="bullet">
/// <item><see cref="Cifar"/>: Li et al.'s ("Pruning filters for efficient convnets"), the paper's Table 1 network:
/// Linear 512->512, BN1d, ReLU, Linear 512->classes.</item>
/// <item><see cref="ImageNet"/>: TorchVision's vgg16_bn (without conv biases, since BN follows): 7x7 average pool,
/// Linear 25088->4096, ReLU, dropout, Linear 4096->4096, ReLU, dropout, Linear 4096->classes.</item>
/// </list>
/// </summary>
public sealed class Vgg16 : Module<Tensor, Tensor>
{
    /// <summary>Configuration D: output channels per convolution, 0 for a 2x2 max-pool.</summary>
    private static readonly int[] Config = { 64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0 };

    private readonly Sequential features;
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Sequential classifier;

    private Vgg16(string name, ConvOptions? options, int inChannels, int poolSize, Sequential classifier) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        features = Features(inChannels, options ?? ConvOptions.Standard);
        // CIFAR: 1x1 after the fifth pool on 32x32, an identity there that keeps other input sizes working.
        avgpool = AdaptiveAvgPool2d(poolSize);
        this.classifier = classifier;
        RegisterComponents();
        ModelInit.Apply(this);
    }

    public static Vgg16 Cifar(ConvOptions? options = null, int numClasses = 10, int inChannels = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        return new Vgg16("VGG16Cifar", options, inChannels, 1,
            Sequential(Linear(512, 512), BatchNorm1d(512), ReLU(inplace: true), Linear(512, numClasses)));
    }

    public static Vgg16 ImageNet(ConvOptions? options = null, int numClasses = 1000, int inChannels = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        return new Vgg16("VGG16", options, inChannels, 7, Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(inplace: true), Dropout(),
            Linear(4096, 4096), ReLU(inplace: true), Dropout(),
            Linear(4096, numClasses)));
    }

    /// <summary>
    /// Max-pools round up, which changes nothing when the size divides by 32 (32, 224) and lets 28x28 reach 1x1.
    /// </summary>
    private static Sequential Features(int inChannels, ConvOptions options)
    {
        var layers = Sequential();
        int channels = inChannels;
        foreach (int width in Config)
        {
            if (width == 0)
            {
                layers.append(MaxPool2d(2, stride: 2, ceil_mode: true));
                continue;
            }
            layers.append(layers.Count == 0 ? ConvOptions.Standard.Conv(channels, width, 3) : options.Conv(channels, width, 3));
            layers.append(BatchNorm2d(width));
            layers.append(ReLU(inplace: true));
            if (options.SqueezeExcitationOn(width) is { } se) layers.append(se);
            channels = width;
        }
        return layers;
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
