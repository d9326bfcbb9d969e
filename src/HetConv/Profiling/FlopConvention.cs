namespace HetConv.Profiling;

/// <summary>How FLOPs are counted. Parameters are counted the same way under both.</summary>
public enum FlopConvention
{
    /// <summary>
    /// Multiply-accumulates of convolutions and linear layers only, as fvcore counts them: a convolution
    /// Do^2 * N * M * K^2 / groups, a HetConv layer Do^2 * N * (M/P * K^2 + M - M/P), a linear layer in * out.
    /// </summary>
    Macs,

    /// <summary>
    /// The HetConv paper's (reconstructed from its tables): a convolution Do^2 * N * (M * K^2 / groups + 1), a HetConv
    /// layer the same times (1/P + (1 - 1/P)/K^2), a linear layer in * out; totals are shown in millions truncated to
    /// two decimals.
    /// </summary>
    Paper,
}
