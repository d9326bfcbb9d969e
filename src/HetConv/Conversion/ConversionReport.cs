namespace HetConv.Conversion;

/// <summary>A convolution the converter replaced: its module name, and the layer before and after.</summary>
public sealed record ReplacedLayer(string Name, string Before, string After);

/// <summary>A convolution the converter left alone, and why.</summary>
public sealed record SkippedLayer(string Name, string Layer, string Reason);

/// <summary>What <see cref="HetConvConverter.Convert"/> did to a model.</summary>
public sealed record ConversionReport(IReadOnlyList<ReplacedLayer> Replaced, IReadOnlyList<SkippedLayer> Skipped)
{
    public override string ToString() =>
        string.Join(Environment.NewLine,
            Replaced.Select(r => $"replaced {r.Name}: {r.Before} -> {r.After}")
                .Concat(Skipped.Select(s => $"skipped  {s.Name}: {s.Layer} ({s.Reason})")));
}
