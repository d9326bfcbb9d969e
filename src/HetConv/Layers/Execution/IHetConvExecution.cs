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

    /// <summary>
    /// The forward pass followed by ReLU, for layers with <see cref="HetConv2d.ReluOutput"/>. A strategy that can
    /// apply it while storing its output overrides this; the default is a separate pass.
    /// </summary>
    Tensor ForwardRelu(HetConv2d layer, Tensor input) => TorchSharp.torch.nn.functional.relu(Forward(layer, input));

    /// <summary>
    /// relu(forward(input) + residual), a residual block's last convolution, shortcut addition and ReLU (see
    /// <see cref="HetConv2d.ForwardAddRelu"/>). The default is separate passes.
    /// </summary>
    Tensor ForwardAddRelu(HetConv2d layer, Tensor input, Tensor residual) =>
        TorchSharp.torch.nn.functional.relu(Forward(layer, input).add(residual));
}

/// <summary>The available strategies.</summary>
public static class HetConvExecutions
{
    public static readonly IHetConvExecution TwoBranch = new TwoBranchExecution();
    public static readonly IHetConvExecution MaskedDense = new MaskedDenseExecution();
    public static readonly IHetConvExecution FusedNhwc = new FusedNhwcExecution();

    /// <summary>Measures the selectable strategies once per layer and input, then uses the fastest.</summary>
    public static readonly AutoExecution Auto = new();

    /// <summary>What a new layer uses.</summary>
    public static IHetConvExecution Default => Auto;

    /// <summary>The strategies that compute on their own (not <see cref="Auto"/>), baselines included.</summary>
    public static IReadOnlyList<IHetConvExecution> All { get; } = new[] { TwoBranch, MaskedDense, FusedNhwc };

    /// <summary>
    /// What <see cref="Auto"/> chooses from: every strategy but the masked-dense baseline, the one it prefers
    /// first.
    /// </summary>
    public static IReadOnlyList<IHetConvExecution> Selectable { get; } = new[] { FusedNhwc, TwoBranch };

    public static IHetConvExecution Parse(string name) =>
        All.Append(Auto).FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown HetConv execution '{name}'; valid: {string.Join(", ", All.Append(Auto).Select(e => e.Name))}.", nameof(name));

    /// <summary>Pins (or, with <see cref="Auto"/>, frees) the strategy of every HetConv2d in a model.</summary>
    public static void UseExecution(this TorchSharp.torch.nn.Module model, IHetConvExecution execution)
    {
        foreach (var (_, module) in model.named_modules())
            if (module is HetConv2d layer) layer.Execution = execution;
    }
}
