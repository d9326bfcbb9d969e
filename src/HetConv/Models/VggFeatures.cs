using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>VGG-16's convolutional part, shared by the CIFAR and ImageNet forms.</summary>
internal static class VggFeatures
{
    /// <summary>Configuration D: output channels per convolution, 0 for a 2x2 max-pool.</summary>
    public static readonly int[] Vgg16 = { 64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0 };

    /// <summary>
    /// Conv-BN-ReLU (then SE when enabled) per entry, the first convolution standard, the rest of the options' kind.
    /// Max-pools round up, which changes nothing when the size divides by 32 (32, 224) and lets 28x28 reach 1x1.
    /// </summary>
    public static Sequential Build(int[] config, int inChannels, ConvOptions options)
    {
        var features = Sequential();
        int channels = inChannels;
        bool first = true;
        foreach (int width in config)
        {
            if (width == 0)
            {
                features.append(MaxPool2d(2, stride: 2, ceil_mode: true));
                continue;
            }
            features.append(first ? ConvOptions.Standard.Conv(channels, width, 3) : options.Conv(channels, width, 3));
            features.append(BatchNorm2d(width));
            features.append(ReLU(inplace: true));
            if (options.SqueezeExcitationOn(width) is { } se) features.append(se);
            channels = width;
            first = false;
        }
        return features;
    }
}
