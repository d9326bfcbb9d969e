namespace HetConv.Layers;

/// <summary>Which input channels carry the KxK kernels of each filter.</summary>
public enum HetConvArrangement
{
    /// <summary>
    /// The paper's arrangement (its Figure 3): filter n has KxK kernels on the input channels m with
    /// (m - n) mod P == 0, so the KxK positions shift by one channel from filter to filter.
    /// </summary>
    Shifted,

    /// <summary>
    /// Contiguous channel blocks, as the public PyTorch ports build it from a grouped convolution:
    /// filters are split into P contiguous runs and run g has KxK kernels on input block g.
    /// It spans the same family of functions as <see cref="Shifted"/> up to a permutation of the input
    /// and output channels (run g holds as many filters as residue class g does).
    /// </summary>
    Blocked,
}
