namespace HetConv.Profiling;

/// <summary>FLOPs and parameters of one forward pass of a model on an input of the given shape.</summary>
public sealed record ModelProfile(long[] Input, FlopConvention Convention, IReadOnlyList<LayerProfile> Layers)
{
    public double Flops => Layers.Sum(l => l.Flops);

    /// <summary>Total FLOPs rounded to a whole number.</summary>
    public long FlopCount => (long)Math.Round(Flops);

    /// <summary>Learnable parameters.</summary>
    public long Params => Layers.Sum(l => l.Params);

    /// <summary>Buffers (e.g. BN running statistics): state, not learned.</summary>
    public long Buffers => Layers.Sum(l => l.Buffers);

    /// <summary>
    /// The paper's way of writing a count: millions truncated (not rounded) to two decimals. A hair of tolerance
    /// keeps a fractional total like 175.2299999 from dropping a digit.
    /// </summary>
    public static double TruncatedMillions(double count) => Math.Floor(count / 1e4 + 1e-6) / 100;

    /// <summary>Reduction in percent of <paramref name="value"/> against <paramref name="baseline"/>.</summary>
    public static double ReductionPercent(double baseline, double value) => 100 * (1 - value / baseline);
}
