using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// One model of the zoo: its name, what it is, the input [C, H, W] and number of classes it was designed for,
/// the convolution options it has when none are asked for, and how to build it (options, classes, in-channels).
/// </summary>
public sealed record ZooEntry(
    string Name,
    string Description,
    long[] DefaultInput,
    int DefaultClasses,
    ConvOptions DefaultOptions,
    Func<ConvOptions, int, int, Module<Tensor, Tensor>> Factory);

/// <summary>
/// The paper's networks by name (<c>resnet56</c>, <c>vgg16-cifar</c>, <c>mobilenet-cifar</c>, <c>vgg16</c>, ...),
/// each built with a convolution kind, a number of classes and a number of input channels.
/// </summary>
public static class ModelZoo
{
    private static readonly long[] Cifar = { 3, 32, 32 };
    private static readonly long[] ImageNet = { 3, 224, 224 };

    private static readonly ZooEntry[] entries =
    {
        ResNet(20), ResNet(32), ResNet(44), ResNet(56), ResNet(110),
        new("vgg16-cifar", "VGG-16 with BN for CIFAR (Li et al.: 13 convs, classifier 512-512-classes)", Cifar, 10,
            ConvOptions.Standard, (o, classes, channels) => Vgg16.Cifar(o, classes, channels)),
        new("mobilenet-cifar", "MobileNet v1 for CIFAR (stem 3->32 at stride 1, 13 depth-wise separable blocks)", Cifar, 10,
            ConvOptions.DepthwisePointwise, (o, classes, channels) => new CifarMobileNet(o, classes, channels)),
        new("vgg16", "VGG-16 with BN for ImageNet (TorchVision's vgg16_bn without conv biases)", ImageNet, 1000,
            ConvOptions.Standard, (o, classes, channels) => Vgg16.ImageNet(o, classes, channels)),
        new("resnet34", "ResNet-34 for ImageNet (TorchVision's form)", ImageNet, 1000,
            ConvOptions.Standard, (o, classes, channels) => ImageNetResNet.ResNet34(o, classes, channels)),
        new("resnet50", "ResNet-50 for ImageNet (TorchVision's v1.5 form: stride on the 3x3)", ImageNet, 1000,
            ConvOptions.Standard, (o, classes, channels) => ImageNetResNet.ResNet50(o, classes, channels)),
    };

    private static readonly Dictionary<string, ZooEntry> byName =
        entries.ToDictionary(e => e.Name, StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<string> Names => entries.Select(e => e.Name);

    /// <summary>The entry of that name (case-insensitive); an unknown name lists the known ones.</summary>
    public static ZooEntry Get(string name) =>
        byName.TryGetValue(name.Trim(), out var entry)
            ? entry
            : throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>
    /// Builds the named model. <paramref name="options"/> null means the model's own form (standard convolutions,
    /// depth-wise + point-wise for MobileNet); <paramref name="numClasses"/> null means the entry's (10 or 1000).
    /// </summary>
    public static Module<Tensor, Tensor> Create(string name, ConvOptions? options = null, int? numClasses = null, int inChannels = 3)
    {
        var entry = Get(name);
        return entry.Factory(options ?? entry.DefaultOptions, numClasses ?? entry.DefaultClasses, inChannels);
    }

    /// <summary>
    /// Options from command-line words for the named model: no <paramref name="conv"/>, <paramref name="part"/> or
    /// <paramref name="groups"/> means the model's own form (plus SE when asked); otherwise
    /// <see cref="ConvOptions.Parse"/>.
    /// </summary>
    public static ConvOptions ResolveOptions(string name, string? conv, string? part, int? groups, bool squeezeExcitation) =>
        conv is null && part is null && groups is null
            ? Get(name).DefaultOptions.WithSqueezeExcitation(squeezeExcitation)
            : ConvOptions.Parse(conv, part, groups, squeezeExcitation);

    private static ZooEntry ResNet(int depth) => new(
        $"resnet{depth}",
        $"ResNet-{depth} for CIFAR (He et al., 16-32-64 channels, option-A shortcuts)",
        Cifar,
        10,
        ConvOptions.Standard,
        (options, classes, channels) => new CifarResNet(depth, options, classes, channels));
}
