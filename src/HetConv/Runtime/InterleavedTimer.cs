using System.Diagnostics;

namespace HetConv.Runtime;

/// <summary>One thing to time: a name and an action that runs it once (synchronously, result ready).</summary>
public sealed record TimedCandidate(string Name, Action Run);

/// <summary>Median and spread (10th and 90th percentiles) of repeated timings, in milliseconds.</summary>
public sealed record TimingStats(double MedianMs, double P10Ms, double P90Ms, int Samples)
{
    public static TimingStats From(IReadOnlyList<double> samplesMs)
    {
        var sorted = samplesMs.Order().ToArray();
        double At(double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
        return new TimingStats(At(0.5), At(0.1), At(0.9), sorted.Length);
    }
}

/// <summary>
/// Times candidates side by side: every repetition runs each candidate once, in an order shuffled afresh for each
/// repetition (from a fixed seed, so a run can be repeated), so drift and noise on a shared machine fall on all of
/// them alike. A fixed or merely rotated order would give each candidate the same predecessor every time, and what
/// that predecessor leaves behind (a flushed cache, a churned heap) would land on one candidate only. Ratios of
/// medians measured this way are what the benchmarks report, never a lone absolute time.
/// </summary>
public static class InterleavedTimer
{
    public static IReadOnlyDictionary<string, TimingStats> Measure(
        IReadOnlyList<TimedCandidate> candidates, int warmup, int repetitions, int seed = 0)
    {
        if (candidates.Count == 0) throw new ArgumentException("nothing to time", nameof(candidates));
        if (repetitions < 1) throw new ArgumentException($"repetitions = {repetitions} must be >= 1.", nameof(repetitions));

        // Warm-up rounds interleave the candidates just as the timed rounds do: the memory allocator's heap then
        // reaches the shape the timed rounds will see (run one candidate after another instead and it keeps
        // growing, and touching fresh pages, well into the timed rounds: tens of milliseconds per training step).
        var samples = candidates.ToDictionary(c => c.Name, _ => new List<double>(repetitions));
        var order = candidates.ToArray();
        var random = new Random(seed);
        var watch = new Stopwatch();
        for (int rep = -warmup; rep < repetitions; rep++)
        {
            random.Shuffle(order);
            foreach (var candidate in order)
            {
                watch.Restart();
                candidate.Run();
                watch.Stop();
                if (rep >= 0) samples[candidate.Name].Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        return samples.ToDictionary(kv => kv.Key, kv => TimingStats.From(kv.Value));
    }
}
