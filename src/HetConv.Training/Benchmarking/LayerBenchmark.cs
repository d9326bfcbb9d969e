using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Layers.Execution.Kernels;
using HetConv.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Benchmarking;

/// <summary>What each timed variant of a layer is: the standard convolution, a HetConv strategy, or a baseline.</summary>
public enum CandidateKind { Standard, HetConv, Baseline }

/// <summary>Timings of variants measured side by side, and the best standard against the best HetConv one.</summary>
public abstract record SideBySideResult(
    IReadOnlyDictionary<string, TimingStats> Timings, IReadOnlyDictionary<string, CandidateKind> Kinds)
{
    public string BestStandard => Best(CandidateKind.Standard);
    public string BestHetConv => Best(CandidateKind.HetConv);
    public double StandardMs => Timings[BestStandard].MedianMs;
    public double HetConvMs => Timings[BestHetConv].MedianMs;
    public double Speedup => StandardMs / HetConvMs;

    /// <summary>The vector width the best HetConv candidate ran with (see <see cref="BenchWidths"/>).</summary>
    public string BestHetConvIsa => BenchWidths.IsaOf(BestHetConv);

    /// <summary>The speedup the FLOPs promise.</summary>
    public abstract double FlopsRatio { get; }

    private string Best(CandidateKind kind) =>
        Timings.Where(t => Kinds[t.Key] == kind).MinBy(t => t.Value.MedianMs).Key;
}

/// <summary>One layer shape at one part, batch and mode: every variant timed side by side.</summary>
public sealed record LayerBenchResult(
    LayerShape Shape, int Part, int Batch, BenchMode Mode,
    IReadOnlyDictionary<string, TimingStats> Timings, IReadOnlyDictionary<string, CandidateKind> Kinds)
    : SideBySideResult(Timings, Kinds)
{
    /// <summary>The speedup the paper's FLOPs promise (<see cref="HetConvPattern.FlopsFraction"/>).</summary>
    public override double FlopsRatio => 1 / HetConvPattern.FlopsFraction(Part, Shape.KernelSize);
}

/// <summary>
/// Times one convolution layer: the standard convolution (NCHW and channels-last), each HetConv execution strategy
/// (on NCHW and channels-last input) and the baselines (masked dense, P-branch slicing, the public blocked
/// two-branch form, DWC+PWC), all on the same input, interleaved.
/// </summary>
public static class LayerBenchmark
{
    /// <param name="widths">the kernel widths to time <c>fused-nhwc</c> at (see <see cref="BenchWidths"/>); null: today's</param>
    public static LayerBenchResult Run(LayerShape shape, int part, int batch, BenchMode mode, int warmup, int repetitions,
        Device? device = null, IReadOnlyList<VectorWidth>? widths = null)
    {
        device ??= CPU;
        torch.random.manual_seed(0);
        var modules = new List<torch.nn.Module<Tensor, Tensor>>();
        T Keep<T>(T module) where T : torch.nn.Module<Tensor, Tensor> { modules.Add(module); return module; }

        int m = shape.InChannels, n = shape.OutChannels, k = shape.KernelSize, s = shape.Stride;
        var standard = Keep(torch.nn.Conv2d(m, n, k, stride: s, padding: k / 2, bias: false, device: device));
        var hetconv = Keep(new HetConv2d(m, n, k, part, s, device: device));
        var blocked = Keep(new HetConv2d(m, n, k, part, s, arrangement: HetConvArrangement.Blocked, device: device));
        var separable = Keep(new DepthwisePointwiseConv2d(m, n, k, s));
        separable.to(device);
        // Inference runs in eval mode, as a deployed layer does: a HetConv layer in training mode would pack its
        // weights again on every call, since an optimizer may have changed them since the last one.
        foreach (var module in modules) module.train(mode == BenchMode.Training);

        using var nchw = randn(batch, m, shape.Size, shape.Size, device: device);
        using var channelsLast = nchw.ToChannelsLast();
        var layouts = new[] { ("nchw", nchw), ("cl", channelsLast) };

        var candidates = new List<TimedCandidate>();
        var kinds = new Dictionary<string, CandidateKind>();
        void Add(string name, CandidateKind kind, Tensor input, Func<Tensor, Tensor> forward, VectorWidth? width = null)
        {
            kinds[name] = kind;
            candidates.Add(new TimedCandidate(name, BenchWidths.Forced(width, () => RunOnce(forward, input, mode))));
        }

        foreach (var (layout, input) in layouts)
        {
            Add($"standard/{layout}", CandidateKind.Standard, input, standard.call);
            foreach (var execution in HetConvExecutions.All.Where(e => e.Supports(hetconv, input)))
            {
                var kind = execution == HetConvExecutions.MaskedDense ? CandidateKind.Baseline : CandidateKind.HetConv;
                foreach (var (suffix, width) in BenchWidths.Of(execution, widths))
                    Add($"{execution.Name}{suffix}/{layout}", kind, input, x => execution.Forward(hetconv, x), width);
            }
            if (PBranchSlicing.Supports(hetconv))
                Add($"p-branch/{layout}", CandidateKind.Baseline, input, x => PBranchSlicing.Forward(hetconv, x));
            Add($"public-two-branch/{layout}", CandidateKind.Baseline, input, x => HetConvExecutions.TwoBranch.Forward(blocked, x));
            Add($"dwc-pwc/{layout}", CandidateKind.Baseline, input, separable.call);
        }

        try
        {
            var timings = InterleavedTimer.Measure(candidates, warmup, repetitions);
            return new LayerBenchResult(shape, part, batch, mode, timings, kinds);
        }
        finally
        {
            foreach (var module in modules) module.Dispose();
        }
    }

    private static void RunOnce(Func<Tensor, Tensor> forward, Tensor input, BenchMode mode)
    {
        using var scope = NewDisposeScope();
        if (mode == BenchMode.Inference)
        {
            using var noGrad = no_grad();
            forward(input);
            return;
        }
        var x = input.detach().requires_grad_(true);
        var y = forward(x);
        y.backward(new[] { ones_like(y) });
    }
}
