using HetConv.Benchmarking;
using HetConv.Models;

namespace HetConv.Tests.Benchmarking;

/// <summary>The benchmarks' wiring (not their speed): every variant runs and lands in the result.</summary>
public class BenchmarkPlumbingTests
{
    [Fact]
    public void Interleaved_timer_runs_every_candidate_the_same_number_of_times()
    {
        int a = 0, b = 0;
        var order = new System.Text.StringBuilder();
        var stats = InterleavedTimer.Measure(new[]
        {
            new TimedCandidate("a", () => { a++; order.Append('a'); }),
            new TimedCandidate("b", () => { b++; order.Append('b'); }),
        }, warmup: 2, repetitions: 7);
        Assert.Equal(9, a);
        Assert.Equal(9, b);
        // Warm-up rounds interleave too, and every round rotates the order.
        Assert.StartsWith("abbaab", order.ToString());
        Assert.Equal(7, stats["a"].Samples);
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
