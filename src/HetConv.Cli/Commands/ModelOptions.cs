using System.CommandLine;
using HetConv.Models;
using static TorchSharp.torch;

namespace HetConv.Cli.Commands;

/// <summary>The command-line options that choose a zoo model's convolutions, shared by the commands that build one.</summary>
public static class ModelOptions
{
    public static Option<string?> Conv() => new("--conv")
    {
        Description = "convolution kind for every KxK layer after the stem: standard, hetconv, gwc-pwc, dwc-pwc (default: the model's own; hetconv when --part is given)",
    };

    public static Option<string?> Part() => new("--part", "-p")
    {
        Description = "HetConv part P: a divisor of every replaced layer's input channels, or C for per-channel (P = M)",
    };

    public static Option<int?> Groups() => new("--groups") { Description = "GWC groups G for --conv gwc-pwc (default 4)" };

    public static Option<bool> SqueezeExcitation() => new("--se") { Description = "add Squeeze-and-Excitation (reduction 8) to every block" };

    public static ZooEntry Entry(string name) => CliUsageException.Wrap(() => ModelZoo.Get(name));

    public static ConvOptions Resolve(string name, string? conv, string? part, int? groups, bool se) =>
        CliUsageException.Wrap(() => ModelZoo.ResolveOptions(name, conv, part, groups, se));

    /// <summary>Builds the model; a part that does not fit a layer is the user's to fix, so it is reported as such.</summary>
    public static nn.Module<Tensor, Tensor> Build(string name, ConvOptions options, int? classes, int inChannels)
    {
        if (classes is < 1)
            throw new CliUsageException($"--classes {classes} must be >= 1.");
        try
        {
            return ModelZoo.Create(name, options, classes, inChannels);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"{name} cannot be built with {options}: {CliUsageException.Describe(e)}", e);
        }
    }
}
