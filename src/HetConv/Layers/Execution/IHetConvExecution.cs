using static TorchSharp.torch;

namespace HetConv.Layers.Execution;

/// <summary>
/// One way of computing a <see cref="HetConv2d"/>'s forward pass (and, through autograd, its backward pass).
/// Every strategy computes the same function; they differ only in speed. Strategies hold no per-layer state.
/// </summary>
public interface IHetConvExecution
{
    /// <summary>Short name used on the command line and in benchmark tables.</summary>
    string Name { get; }

    /// <summary>Whether this strategy runs its own method on this layer and input (else it delegates).</summary>
    bool Supports(HetConv2d layer, Tensor input) => true;

    Tensor Forward(HetConv2d layer, Tensor input);
}

/// <summary>The available strategies.</summary>
public static class HetConvExecutions
{
    public static readonly IHetConvExecution TwoBranch = new TwoBranchExecution();
    public static readonly IHetConvExecution MaskedDense = new MaskedDenseExecution();
    public static readonly IHetConvExecution FusedNhwc = new FusedNhwcExecution();

    /// <summary>What a new layer uses.</summary>
    public static IHetConvExecution Default => TwoBranch;

    public static IReadOnlyList<IHetConvExecution> All { get; } = new[] { TwoBranch, MaskedDense, FusedNhwc };

    public static IHetConvExecution Parse(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown HetConv execution '{name}'; valid: {string.Join(", ", All.Select(e => e.Name))}.", nameof(name));
}
