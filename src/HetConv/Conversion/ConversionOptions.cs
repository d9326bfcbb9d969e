using HetConv.Layers;

namespace HetConv.Conversion;

/// <summary>How <see cref="HetConvConverter"/> converts a model.</summary>
public sealed record ConversionOptions
{
    /// <summary>HetConv's part P for every converted layer (ignored when <see cref="PerChannel"/>).</summary>
    public int Part { get; init; } = 4;

    /// <summary>P = each layer's input channels (the paper's PC).</summary>
    public bool PerChannel { get; init; }

    /// <summary>Leave the stem convolution standard, as the paper does.</summary>
    public bool KeepStem { get; init; } = true;

    /// <summary>
    /// The stem's module name (e.g. <c>conv1</c>); null means the first convolution in module order, which is the
    /// stem of TorchVision's and this library's models.
    /// </summary>
    public string? StemName { get; init; }

    /// <summary>
    /// Start each HetConv2d from the dense weights it replaces (the KxK kernels the pattern keeps, the centre tap on
    /// the other channels) and copy the bias; otherwise the new layers keep their fresh initialisation.
    /// </summary>
    public bool InitializeFromDense { get; init; }

    public HetConvArrangement Arrangement { get; init; } = HetConvArrangement.Shifted;

    /// <summary>The part for a layer with <paramref name="inChannels"/> input channels.</summary>
    public int PartFor(int inChannels) => PerChannel ? inChannels : Part;

    public override string ToString() => PerChannel ? "PC" : $"P{Part}";
}
