namespace HetConv.Models;

/// <summary>Which convolution a model uses for its KxK layers (K > 1) after the stem.</summary>
public enum ConvKind
{
    /// <summary>A standard convolution (the paper's P1).</summary>
    Standard,

    /// <summary>HetConv with a fixed part P for every layer (the paper's Pα).</summary>
    HetConv,

    /// <summary>HetConv with P = the layer's input channels (the paper's PC).</summary>
    HetConvPerChannel,

    /// <summary>Group-wise KxK convolution with G groups, then a point-wise one (the paper's GWCβ_PWC).</summary>
    GroupwisePointwise,

    /// <summary>Depth-wise KxK convolution, then a point-wise one (the paper's DWC_PWC).</summary>
    DepthwisePointwise,
}
