using HetConv.Benchmarking;
using HetConv.Models;
using HetConv.Runtime;

namespace HetConv.Tests.Benchmarking;

/// <summary>The benchmarks' wiring (not their speed): every variant runs and lands in the result.</summary>
public class BenchmarkPlumbingTests
{
    [Fact]
    public void Interleaved_timer_runs_every_candidate_once_per_round_in_changing_orders()
    {
        var counts = new Dictionary<char, int>();
        var order = new System.Text.StringBuilder();
        var names = "abcd";
        var stats = InterleavedTimer.Measure(names.Select(name => new TimedCandidate(name.ToString(), () =>
        {
            counts[name] = counts.GetValueOrDefault(name) + 1;
            order.Append(name);
        })).ToArray(), warmup: 2, repetitions: 10);

        Assert.All(names, name => Assert.Equal(12, counts[name]));
        // Warm-up rounds interleave too: every round, warm-up or timed, runs each candidate exactly once.
        var rounds = Enumerable.Range(0, 12).Select(r => order.ToString().Substring(4 * r, 4)).ToArray();
        Assert.All(rounds, round => Assert.Equal(names, string.Concat(round.Order())));
        // The order is shuffled, not rotated: within a round, 'a' is not always followed by the same candidate.
        var followers = rounds.Select(round => round.IndexOf('a')).Zip(rounds)
            .Where(pair => pair.First < 3).Select(pair => pair.Second[pair.First + 1]).Distinct();
        Assert.True(followers.Count() > 1, $"'a' is always followed by the same candidate: {string.Join(" ", rounds)}");
        Assert.Equal(10, stats["a"].Samples);
        Assert.True(stats["a"].P10Ms <= stats["a"].MedianMs && stats["a"].MedianMs <= stats["a"].P90Ms);
    }

    [Theory]
    [InlineData(BenchMode.Inference)]
    [InlineData(BenchMode.Training)]
    public void Layer_benchmark_times_standard_hetconv_and_baselines(BenchMode mode)
    {
        var result = LayerBenchmark.Run(new LayerShape("tiny", 16, 32, 6), part: 4, batch: 2, mode, warmup: 0, repetitions: 1);
        Assert.Contains("standard/nchw", result.Timings.Keys);
        Assert.Contains("two-branch/cl", result.Timings.Keys);
        Assert.Contains("masked-dense/nchw", result.Timings.Keys);
        Assert.Contains("p-branch/nchw", result.Timings.Keys);
        Assert.Contains("dwc-pwc/cl", result.Timings.Keys);
        Assert.Equal(3.0, result.FlopsRatio, 6);
        Assert.StartsWith("standard/", result.BestStandard);
    }

    [Fact]
    public void Model_benchmark_times_both_models_in_every_configuration()
    {
        var result = ModelBenchmark.Run("resnet20", ConvOptions.HetConv(4), batch: 2, BenchMode.Inference, warmup: 0, repetitions: 1);
        Assert.Contains("standard/cl+folded", result.Timings.Keys);
        Assert.Contains("hetconv:two-branch/nchw", result.Timings.Keys);
        Assert.InRange(result.FlopsRatio, 2.0, 3.0);   // 3x on the replaced convolutions, less for the whole net
    }
}
