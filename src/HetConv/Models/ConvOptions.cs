using System.Globalization;
using HetConv.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// How a zoo model builds its convolutions: the kind used for every KxK layer after the stem, and whether each
/// block gets Squeeze-and-Excitation. 1x1 convolutions and the stem stay standard, as in the paper.
/// </summary>
public sealed record ConvOptions
{
    public ConvKind Kind { get; init; } = ConvKind.Standard;

    /// <summary>HetConv's part P (only for <see cref="ConvKind.HetConv"/>).</summary>
    public int Part { get; init; } = 1;

    /// <summary>GWC's groups G (only for <see cref="ConvKind.GroupwisePointwise"/>).</summary>
    public int Groups { get; init; } = 4;

    public bool SqueezeExcitation { get; init; }

    /// <summary>SE reduction ratio; the paper uses 8 throughout.</summary>
    public int SeReduction { get; init; } = 8;

    public static ConvOptions Standard { get; } = new();

    public static ConvOptions HetConv(int part) => new() { Kind = ConvKind.HetConv, Part = part };

    public static ConvOptions PerChannel { get; } = new() { Kind = ConvKind.HetConvPerChannel };

    public static ConvOptions GroupwisePointwise(int groups) => new() { Kind = ConvKind.GroupwisePointwise, Groups = groups };

    public static ConvOptions DepthwisePointwise { get; } = new() { Kind = ConvKind.DepthwisePointwise };

    public ConvOptions WithSqueezeExcitation(bool enabled = true) => this with { SqueezeExcitation = enabled };

    /// <summary>The paper's suffix: <c>_P4</c>, <c>_PC</c>, <c>_GWC4_PWC</c>, <c>_DWC_PWC</c>, then <c>_SE</c>.</summary>
    public string PaperSuffix
    {
        get
        {
            string conv = Kind switch
            {
                ConvKind.Standard => "_P1",
                ConvKind.HetConv => $"_P{Part}",
                ConvKind.HetConvPerChannel => "_PC",
                ConvKind.GroupwisePointwise => $"_GWC{Groups}_PWC",
                ConvKind.DepthwisePointwise => "_DWC_PWC",
                _ => throw new InvalidOperationException($"unknown convolution kind {Kind}"),
            };
            return SqueezeExcitation ? conv + "_SE" : conv;
        }
    }

    public override string ToString() => PaperSuffix.TrimStart('_');

    /// <summary>
    /// A KxK convolution in -> out of this kind, padding K/2, no bias. K = 1 gives a standard 1x1 convolution,
    /// since none of the kinds changes a point-wise layer.
    /// </summary>
    public Module<Tensor, Tensor> Conv(int inChannels, int outChannels, int kernelSize, int stride = 1)
    {
        if (kernelSize == 1)
            return Conv2d(inChannels, outChannels, 1, stride: stride, bias: false);
        return Kind switch
        {
            ConvKind.Standard => Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: kernelSize / 2, bias: false),
            ConvKind.HetConv => new HetConv2d(inChannels, outChannels, kernelSize, part: Part, stride: stride),
            ConvKind.HetConvPerChannel => new HetConv2d(inChannels, outChannels, kernelSize, part: inChannels, stride: stride),
            ConvKind.GroupwisePointwise => new GroupwisePointwiseConv2d(inChannels, outChannels, kernelSize, groups: Groups, stride: stride),
            ConvKind.DepthwisePointwise => new DepthwisePointwiseConv2d(inChannels, outChannels, kernelSize, stride: stride),
            _ => throw new InvalidOperationException($"unknown convolution kind {Kind}"),
        };
    }

    /// <summary>The block's SE layer on <paramref name="channels"/>, or null without SE.</summary>
    public Module<Tensor, Tensor>? SqueezeExcitationOn(int channels) =>
        SqueezeExcitation ? new SqueezeExcitation(channels, SeReduction) : null;

    /// <summary>
    /// Options from command-line words: <paramref name="conv"/> is standard, hetconv, gwc-pwc or dwc-pwc (null:
    /// hetconv when a part is given, else standard); <paramref name="part"/> is a number or C (per channel).
    /// </summary>
    public static ConvOptions Parse(string? conv, string? part, int? groups = null, bool squeezeExcitation = false)
    {
        string kind = (conv ?? (part is null ? "standard" : "hetconv")).Trim().ToLowerInvariant();
        ConvOptions options = kind switch
        {
            "standard" or "std" => Standard,
            "hetconv" => ParsePart(part ?? throw new ArgumentException("--conv hetconv needs --part P (a number, or C for per-channel).")),
            "gwc-pwc" => GroupwisePointwise(groups ?? 4),
            "dwc-pwc" => DepthwisePointwise,
            _ => throw new ArgumentException($"unknown convolution '{conv}'; use standard, hetconv, gwc-pwc or dwc-pwc."),
        };
        if (part is not null && options.Kind is not (ConvKind.HetConv or ConvKind.HetConvPerChannel) && part.Trim() != "1")
            throw new ArgumentException($"--part {part} only applies to --conv hetconv, not {kind}.");
        if (groups is not null && options.Kind != ConvKind.GroupwisePointwise)
            throw new ArgumentException($"--groups {groups} only applies to --conv gwc-pwc, not {kind}.");
        if (options.Kind == ConvKind.GroupwisePointwise && options.Groups < 1)
            throw new ArgumentException($"--groups {options.Groups} must be >= 1.");
        return options.WithSqueezeExcitation(squeezeExcitation);
    }

    private static ConvOptions ParsePart(string part)
    {
        string p = part.Trim();
        if (p.Equals("C", StringComparison.OrdinalIgnoreCase) || p.Equals("PC", StringComparison.OrdinalIgnoreCase))
            return PerChannel;
        if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
            throw new ArgumentException($"--part '{part}' must be a positive whole number or C (per channel).");
        return value == 1 ? Standard : HetConv(value);
    }
}
