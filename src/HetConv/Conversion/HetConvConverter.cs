using HetConv.Layers;
using TorchSharp;
using static TorchSharp.torch;
using Conv2d = TorchSharp.Modules.Conv2d;

namespace HetConv.Conversion;

/// <summary>
/// Turns any TorchSharp model into its HetConv version in place: every KxK convolution (K > 1, odd, square) with
/// groups == 1, no dilation and zero padding becomes a <see cref="HetConv2d"/> with the same channels, stride, padding,
/// bias, device and dtype, except the stem (configurable). Depth-wise and grouped convolutions, 1x1 convolutions and
/// layers whose input channels P does not divide are skipped, each with its reason in the report.
/// </summary>
public static class HetConvConverter
{
    public static ConversionReport Convert(nn.Module model, ConversionOptions? options = null)
    {
        options ??= new ConversionOptions();
        if (!options.PerChannel && options.Part < 1)
            throw new ArgumentException($"part P = {options.Part} must be >= 1.", nameof(options));

        // Every place a convolution sits (a shared one sits in several), in module order.
        var places = new List<(nn.Module Parent, string ChildName, string Name, Conv2d Conv)>();
        void Visit(nn.Module module, string prefix)
        {
            foreach (var (childName, child) in module.named_children())
            {
                string name = prefix == "" ? childName : $"{prefix}.{childName}";
                if (child is Conv2d conv) places.Add((module, childName, name, conv));
                else Visit(child, name);
            }
        }
        Visit(model, "");

        string? stem = options.StemName ?? places.FirstOrDefault().Name;
        if (options.StemName is not null && places.All(p => p.Name != options.StemName))
            throw new ArgumentException($"no convolution named '{options.StemName}'; convolutions: {string.Join(", ", places.Select(p => p.Name))}.", nameof(options));

        var replaced = new List<ReplacedLayer>();
        var skipped = new List<SkippedLayer>();
        var replacements = new Dictionary<Conv2d, HetConv2d>(ReferenceEqualityComparer.Instance);
        foreach (var (parent, childName, name, conv) in places)
        {
            if (!replacements.TryGetValue(conv, out var het))
            {
                string? reason = options.KeepStem && name == stem ? "stem, kept standard" : WhyNotConvertible(conv, options);
                if (reason is null)
                {
                    het = CreateFrom(conv, options);
                    reason = ModuleSurgery.WhyNot(parent, conv, het);
                    if (reason is not null) het.Dispose();
                }
                if (reason is not null)
                {
                    skipped.Add(new SkippedLayer(name, Describe(conv), reason));
                    continue;
                }
                replacements[conv] = het!;
            }
            ModuleSurgery.Replace(parent, childName, conv, het!);
            replaced.Add(new ReplacedLayer(name, Describe(conv), het!.ToString()));
        }
        return new ConversionReport(replaced, skipped);
    }

    private static string? WhyNotConvertible(Conv2d conv, ConversionOptions options)
    {
        long[] k = conv.kernel_size, s = conv.stride, d = conv.dilation;
        if (k[0] != k[1]) return $"non-square {k[0]}x{k[1]} kernel";
        if (k[0] == 1) return "1x1 kernel: nothing to make heterogeneous";
        if (k[0] % 2 == 0) return $"even {k[0]}x{k[0]} kernel has no centre tap";
        if (conv.groups != 1) return conv.groups == conv.in_channels ? "depth-wise convolution" : $"grouped convolution (groups = {conv.groups})";
        if (d[0] != 1 || d[1] != 1) return $"dilation {d[0]}x{d[1]}";
        if (s[0] != s[1]) return $"unequal strides {s[0]}x{s[1]}";
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros) return $"{conv.padding_mode} padding";
        if (Padding(conv) is null) return "unequal or 'same' padding with stride > 1";
        int part = options.PartFor((int)conv.in_channels);
        if (part < 1 || conv.in_channels % part != 0)
            return $"P = {part} does not divide its {conv.in_channels} input channels";
        return null;
    }

    /// <summary>The symmetric zero padding of the convolution, or null when it has none HetConv2d can express.</summary>
    private static int? Padding(Conv2d conv)
    {
        if (conv.padding_type is { } type)
        {
            if (type == TorchSharp.Padding.Valid) return 0;
            return conv.stride[0] == 1 ? (int)conv.kernel_size[0] / 2 : null;
        }
        var p = conv.padding ?? new long[] { 0, 0 };
        return p[0] == p[1] ? (int)p[0] : null;
    }

    private static HetConv2d CreateFrom(Conv2d conv, ConversionOptions options)
    {
        var weight = conv.weight;
        var het = new HetConv2d((int)conv.in_channels, (int)conv.out_channels, (int)conv.kernel_size[0],
            part: options.PartFor((int)conv.in_channels), stride: (int)conv.stride[0], padding: Padding(conv),
            bias: conv.bias is not null, arrangement: options.Arrangement, device: weight.device, dtype: weight.dtype);
        if (options.InitializeFromDense)
        {
            het.CopyFromDense(weight.detach());
            if (conv.bias is not null)
            {
                using var noGrad = no_grad();
                het.Bias!.copy_(conv.bias);
            }
        }
        het.train(conv.training);
        return het;
    }

    private static string Describe(Conv2d conv)
    {
        var k = conv.kernel_size;
        return $"Conv2d({conv.in_channels}, {conv.out_channels}, kernel_size={k[0]}x{k[1]}, stride={conv.stride[0]}, groups={conv.groups})";
    }
}
