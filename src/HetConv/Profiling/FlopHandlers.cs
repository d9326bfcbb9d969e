using HetConv.Layers;
using static TorchSharp.torch;

namespace HetConv.Profiling;

/// <summary>FLOPs of one call of a module, from the module and its input and output shapes.</summary>
public delegate double FlopHandler(nn.Module module, long[] inputShape, long[] outputShape);

/// <summary>
/// The per-module FLOP rules of each convention (fvcore's design: a table of handlers by module type). Modules
/// without a handler count zero: BN, activations, pooling, additions and reshapes are free under both conventions.
/// Composite layers (GWC+PWC, DWC+PWC, SE) are counted through their convolutions and linear layers.
/// </summary>
public static class FlopHandlers
{
    public static IReadOnlyDictionary<Type, FlopHandler> Macs { get; } = new Dictionary<Type, FlopHandler>
    {
        [typeof(TorchSharp.Modules.Conv2d)] = (m, _, output) =>
        {
            var conv = (TorchSharp.Modules.Conv2d)m;
            return Numel(output) * (double)(conv.in_channels / conv.groups * conv.kernel_size[0] * conv.kernel_size[1]);
        },
        [typeof(HetConv2d)] = (m, _, output) =>
        {
            var het = (HetConv2d)m;
            var pattern = het.Pattern;
            return Numel(output) * (double)(pattern.KxkPerFilter * het.KernelSize * het.KernelSize + pattern.PointwisePerFilter);
        },
        [typeof(TorchSharp.Modules.Linear)] = LinearMacs,
    };

    public static IReadOnlyDictionary<Type, FlopHandler> Paper { get; } = new Dictionary<Type, FlopHandler>
    {
        [typeof(TorchSharp.Modules.Conv2d)] = (m, _, output) =>
        {
            var conv = (TorchSharp.Modules.Conv2d)m;
            return Numel(output) * ((double)conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1] / conv.groups + 1);
        },
        [typeof(HetConv2d)] = (m, _, output) =>
        {
            var het = (HetConv2d)m;
            return Numel(output) * ((double)het.InChannels * het.KernelSize * het.KernelSize + 1) * PaperCostRatio(het.Part, het.KernelSize);
        },
        [typeof(TorchSharp.Modules.Linear)] = LinearMacs,
    };

    public static IReadOnlyDictionary<Type, FlopHandler> For(FlopConvention convention) => convention switch
    {
        FlopConvention.Macs => Macs,
        FlopConvention.Paper => Paper,
        _ => throw new ArgumentOutOfRangeException(nameof(convention), convention, "unknown FLOP convention"),
    };

    /// <summary>
    /// The paper's cost of a HetConv layer against the standard convolution it replaces, 1/P + (1 - 1/P)/K^2: the
    /// share 1/P of KxK kernels at full cost, the rest at one tap of K^2.
    /// </summary>
    public static double PaperCostRatio(double part, int kernelSize) =>
        1 / part + (1 - 1 / part) / ((double)kernelSize * kernelSize);

    private static double LinearMacs(nn.Module m, long[] _, long[] output) =>
        Numel(output) * (double)((TorchSharp.Modules.Linear)m).in_features;

    private static double Numel(long[] shape) => shape.Aggregate(1.0, (n, d) => n * d);
}
