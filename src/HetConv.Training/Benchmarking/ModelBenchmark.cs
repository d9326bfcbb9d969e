using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Layers.Execution.Kernels;
using HetConv.Models;
using HetConv.Profiling;
using HetConv.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Benchmarking;

/// <summary>A whole zoo model, standard against HetConv, every configuration timed side by side.</summary>
public sealed record ModelBenchResult(
    string Model, ConvOptions Options, int Batch, BenchMode Mode, double MacsRatio,
    IReadOnlyDictionary<string, TimingStats> Timings, IReadOnlyDictionary<string, CandidateKind> Kinds)
    : SideBySideResult(Timings, Kinds)
{
    /// <summary>Multiply-accumulates of the standard model over the HetConv model's (convolutions and linear layers).</summary>
    public override double FlopsRatio => MacsRatio;
}

/// <summary>
/// Times a zoo model with standard convolutions against the same model with HetConv, each in every configuration
/// that could make it fastest: NCHW or channels-last activations, BatchNorm folded into the convolutions (inference),
/// and, for HetConv, each execution strategy pinned. Inference is a forward pass in eval mode without autograd; a
/// training step is forward, cross-entropy, backward and an SGD step (momentum 0.9, weight decay 5e-4).
/// </summary>
public static class ModelBenchmark
{
    /// <param name="widths">the kernel widths to time <c>fused-nhwc</c> at (see <see cref="BenchWidths"/>); null: today's</param>
    public static ModelBenchResult Run(string model, ConvOptions hetconv, int batch, BenchMode mode, int warmup, int repetitions,
        Device? device = null, IReadOnlyList<VectorWidth>? widths = null)
    {
        device ??= CPU;
        torch.random.manual_seed(0);
        var entry = ModelZoo.Get(model);
        var inputShape = new[] { (long)batch }.Concat(entry.DefaultInput).ToArray();
        var disposables = new List<IDisposable>();
        T Keep<T>(T d) where T : IDisposable { disposables.Add(d); return d; }

        var candidates = new List<TimedCandidate>();
        var kinds = new Dictionary<string, CandidateKind>();
        var nchw = Keep(randn(inputShape, device: device));
        var channelsLast = Keep(nchw.ToChannelsLast());
        var labels = Keep(randint(0, entry.DefaultClasses, new[] { (long)batch }, device: device));

        // One network per configuration, so nothing is switched between timed runs.
        void AddModel(string prefix, CandidateKind kind, ConvOptions options, IReadOnlyList<IHetConvExecution?> executions)
        {
            foreach (bool fold in mode == BenchMode.Inference ? new[] { false, true } : new[] { false })
            foreach (var execution in executions)
            foreach (var (suffix, width) in BenchWidths.Of(execution, widths))
            foreach (var (layout, input) in new[] { ("nchw", nchw), ("cl", channelsLast) })
            {
                torch.random.manual_seed(0);
                var net = Keep(ModelZoo.Create(model, options));
                net.to(device);
                if (mode == BenchMode.Inference) net.eval(); else net.train();
                if (fold) InferenceFolding.Apply(net);
                if (execution is not null) net.UseExecution(execution);
                var optimizer = mode == BenchMode.Training
                    ? Keep(torch.optim.SGD(net.parameters(), 0.01, momentum: 0.9, weight_decay: 5e-4))
                    : null;
                string name = $"{prefix}{(execution is null ? "" : $":{execution.Name}{suffix}")}/{layout}{(fold ? "+folded" : "")}";
                kinds[name] = kind;
                candidates.Add(new TimedCandidate(name, BenchWidths.Forced(width, () => Step(net, optimizer, input, labels))));
            }
        }

        AddModel("standard", CandidateKind.Standard, ConvOptions.Standard, new IHetConvExecution?[] { null });
        AddModel("hetconv", CandidateKind.HetConv, hetconv, HetConvExecutions.Selectable);

        try
        {
            double flopsRatio;
            using (var standard = ModelZoo.Create(model, ConvOptions.Standard))
            using (var het = ModelZoo.Create(model, hetconv))
            {
                flopsRatio = ModelProfiler.Profile(standard, inputShape, FlopConvention.Macs).Flops
                           / ModelProfiler.Profile(het, inputShape, FlopConvention.Macs).Flops;
            }
            var timings = InterleavedTimer.Measure(candidates, warmup, repetitions);
            return new ModelBenchResult(entry.Name, hetconv, batch, mode, flopsRatio, timings, kinds);
        }
        finally
        {
            foreach (var d in disposables) d.Dispose();
        }
    }

    private static void Step(torch.nn.Module<Tensor, Tensor> net, torch.optim.Optimizer? optimizer, Tensor input, Tensor labels)
    {
        using var scope = NewDisposeScope();
        if (optimizer is null)
        {
            using var noGrad = no_grad();
            net.call(input);
            return;
        }
        optimizer.zero_grad();
        var loss = torch.nn.functional.cross_entropy(net.call(input), labels);
        loss.backward();
        optimizer.step();
    }
}
