using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>One model of the zoo: its name, what it is, the input it was designed for, and how to build it.</summary>
public sealed record ZooEntry(
    string Name,
    string Description,
    long[] DefaultInput,
    Func<ConvOptions, int, int, Module<Tensor, Tensor>> Factory);

/// <summary>
/// The paper's networks by name (<c>resnet56</c>, <c>vgg16-cifar</c>, ...), each built with a convolution kind,
/// a number of classes and a number of input channels.
/// </summary>
public static class ModelZoo
{
    private static readonly long[] Cifar = { 3, 32, 32 };

    private static readonly ZooEntry[] entries =
    {
        ResNet(20), ResNet(32), ResNet(44), ResNet(56), ResNet(110),
    };

    private static readonly Dictionary<string, ZooEntry> byName =
        entries.ToDictionary(e => e.Name, StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<ZooEntry> Entries => entries;

    public static IEnumerable<string> Names => entries.Select(e => e.Name);

    /// <summary>The entry of that name (case-insensitive); an unknown name lists the known ones.</summary>
    public static ZooEntry Get(string name) =>
        byName.TryGetValue(name.Trim(), out var entry)
            ? entry
            : throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>Builds the named model; <paramref name="options"/> null means standard convolutions.</summary>
    public static Module<Tensor, Tensor> Create(string name, ConvOptions? options = null, int numClasses = 10, int inChannels = 3) =>
        Get(name).Factory(options ?? ConvOptions.Standard, numClasses, inChannels);

    private static ZooEntry ResNet(int depth) => new(
        $"resnet{depth}",
        $"ResNet-{depth} for CIFAR (He et al., 16-32-64 channels, option-A shortcuts)",
        Cifar,
        (options, classes, channels) => new CifarResNet(depth, options, classes, channels));
}
