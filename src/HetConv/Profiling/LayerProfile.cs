namespace HetConv.Profiling;

/// <summary>
/// One module's share: its FLOPs over all its calls in one forward pass (exact, possibly fractional under the
/// paper's convention), and the parameters and buffers it holds itself (not its children's).
/// </summary>
public sealed record LayerProfile(string Name, string Type, double Flops, long Params, long Buffers)
{
    /// <summary>FLOPs rounded to a whole number.</summary>
    public long FlopCount => (long)Math.Round(Flops);
}
