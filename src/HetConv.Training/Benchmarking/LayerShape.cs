namespace HetConv.Benchmarking;

/// <summary>One convolution of a network: M -> N channels, KxK, on a Size x Size input.</summary>
public sealed record LayerShape(string Name, int InChannels, int OutChannels, int Size, int Stride = 1, int KernelSize = 3)
{
    /// <summary>The 12 convolutions of VGG-16 on CIFAR that HetConv replaces (conv1 stays standard).</summary>
    public static IReadOnlyList<LayerShape> Vgg16Cifar { get; } = new LayerShape[]
    {
        new("conv2", 64, 64, 32), new("conv3", 64, 128, 16), new("conv4", 128, 128, 16),
        new("conv5", 128, 256, 8), new("conv6", 256, 256, 8), new("conv7", 256, 256, 8),
        new("conv8", 256, 512, 4), new("conv9", 512, 512, 4), new("conv10", 512, 512, 4),
        new("conv11", 512, 512, 2), new("conv12", 512, 512, 2), new("conv13", 512, 512, 2),
    };

    /// <summary>The distinct 3x3 convolution shapes of ResNet-56 on CIFAR (each stage repeats its own 18 times).</summary>
    public static IReadOnlyList<LayerShape> ResNet56 { get; } = new LayerShape[]
    {
        new("stage1", 16, 16, 32), new("stage2-down", 16, 32, 32, Stride: 2), new("stage2", 32, 32, 16),
        new("stage3-down", 32, 64, 16, Stride: 2), new("stage3", 64, 64, 8),
    };

    public static IReadOnlyList<LayerShape> ForNetwork(string name) => name.ToLowerInvariant() switch
    {
        "vgg16-cifar" => Vgg16Cifar,
        "resnet56" => ResNet56,
        _ => throw new ArgumentException($"no layer shapes for '{name}'; valid: vgg16-cifar, resnet56.", nameof(name)),
    };
}
