using System.Collections.Concurrent;
using HetConv.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Layers.Execution;

/// <summary>
/// Picks the fastest strategy per layer configuration and input (shape, layout, dtype, device, with or without
/// autograd), like cuDNN's benchmark mode: the first call with a new key times every strategy that supports it
/// side by side on that very input, later calls reuse the choice (the preferred strategy unless another is clearly
/// faster, see <see cref="ClearMargin"/>). Masked dense is never a candidate.
/// </summary>
public sealed class AutoExecution : IHetConvExecution
{
    private readonly ConcurrentDictionary<string, IHetConvExecution> choices = new();

    public string Name => "auto";

    /// <summary>The strategy chosen for each key so far, for reports.</summary>
    public IReadOnlyDictionary<string, IHetConvExecution> Choices => choices;

    public Tensor Forward(HetConv2d layer, Tensor input) => Choose(layer, input).Forward(layer, input);

    public Tensor ForwardRelu(HetConv2d layer, Tensor input) => Choose(layer, input).ForwardRelu(layer, input);

    public Tensor ForwardAddRelu(HetConv2d layer, Tensor input, Tensor residual) =>
        Choose(layer, input).ForwardAddRelu(layer, input, residual);

    /// <summary>
    /// Takes earlier choices (key to strategy name, as <see cref="Choices"/> lists them) instead of measuring again,
    /// so that a process continuing another's work (a resumed training run) computes with the same kernels, and so
    /// sums in the same order, bit for bit.
    /// </summary>
    public void Adopt(IReadOnlyDictionary<string, string> earlier)
    {
        foreach (var (key, name) in earlier)
            choices[key] = HetConvExecutions.Parse(name);
    }

    public IHetConvExecution Choose(HetConv2d layer, Tensor input)
    {
        bool training = layer.NeedsAutograd(input);
        string key = $"{layer} in=[{string.Join(",", input.shape)}] strides=[{string.Join(",", input.stride())}] " +
                     $"{input.dtype} {input.device_type} {(training ? "train" : "infer")}";
        return choices.GetOrAdd(key, _ => Measure(layer, input, training));
    }

    private static IHetConvExecution Measure(HetConv2d layer, Tensor input, bool training)
    {
        var candidates = HetConvExecutions.Selectable.Where(e => e.Supports(layer, input)).ToList();
        if (candidates.Count == 1) return candidates[0];

        var parameters = layer.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList();
        var timed = candidates.Select(e => new TimedCandidate(e.Name, () =>
        {
            using var scope = NewDisposeScope();
            if (!training)
            {
                using var noGrad = no_grad();
                e.Forward(layer, input);
                return;
            }
            // Gradients through autograd.grad, so the layer's .grad fields are left alone.
            var x = input.detach().requires_grad_(true);
            var y = e.Forward(layer, x);
            torch.autograd.grad(new[] { y }, new List<Tensor>(parameters) { x }, new[] { ones_like(y) }, allow_unused: true);
        })).ToList();
        // Other load only ever slows a run down, so the fast end of each strategy's timings compares the strategies
        // rather than the machine's load at the moment.
        var timings = InterleavedTimer.Measure(timed, warmup: 1, repetitions: 5);
        var fastest = candidates.MinBy(e => timings[e.Name].P10Ms)!;
        var preferred = candidates[0];
        return timings[fastest.Name].P10Ms < ClearMargin * timings[preferred.Name].P10Ms ? fastest : preferred;
    }

    /// <summary>
    /// Another strategy replaces the preferred one (the first of <see cref="HetConvExecutions.Selectable"/>) only when
    /// clearly faster. Near ties would otherwise go either way with the machine's load, so two runs (a training run
    /// and its resumption, in another process) could sum in different orders and drift apart.
    /// </summary>
    private const double ClearMargin = 0.85;
}
