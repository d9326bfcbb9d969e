using HetConv.Benchmarking;
using HetConv.Layers.Execution.Kernels;
using HetConv.Models;
using HetConv.Runtime;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>One model's ONNX Runtime latency in one form at one batch size.</summary>
public sealed record OnnxLatencyRow(string Model, string Form, int Batch, TimingStats Stats);

/// <summary>
/// ONNX Runtime's latency for zoo models exported three ways: the standard model (P1), and the HetConv model in the
/// grouped form (HetConv's FLOPs in standard operators) and the dense form (one Conv per layer). The three are timed
/// side by side, interleaved, per model and batch size, on random inputs (weights do not change the time).
/// </summary>
public static class OnnxLatency
{
    public const string Standard = "standard (P1)";

    /// <summary>
    /// Times comma-separated <paramref name="models"/> at comma-separated <paramref name="batches"/>; the exports
    /// live in a temporary directory for the run. Bad values are <see cref="ArgumentException"/>s that name them.
    /// </summary>
    public static IReadOnlyList<OnnxLatencyRow> Measure(string models, int part, string batches, int warmup, int repetitions, int threads)
    {
        var names = models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = BenchSweep.PositiveInts(batches, "batch size");
        if (repetitions < 1) throw new ArgumentException($"repetitions: {repetitions} must be >= 1.");
        if (warmup < 0) throw new ArgumentException($"warmup: {warmup} must be >= 0.");
        string directory = Directory.CreateTempSubdirectory("hetconv-onnx-latency-").FullName;
        try
        {
            return Measure(names, part, sizes, warmup, repetitions, threads, directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static IReadOnlyList<OnnxLatencyRow> Measure(IReadOnlyList<string> models, int part, IReadOnlyList<int> batches,
        int warmup, int repetitions, int threads, string directory)
    {
        var rows = new List<OnnxLatencyRow>();
        foreach (string name in models)
        {
            var entry = ModelZoo.Get(name);
            var files = new List<(string Form, string Path)>();
            using (var standard = ModelZoo.Create(name, ConvOptions.Standard))
                files.Add((Standard, Write(standard, entry, OnnxHetConvForm.Dense, directory, "standard")));
            using (var het = ModelZoo.Create(name, ConvOptions.HetConv(part)))
            {
                files.Add(($"P{part} grouped", Write(het, entry, OnnxHetConvForm.Grouped, directory, $"P{part}-grouped")));
                files.Add(($"P{part} dense", Write(het, entry, OnnxHetConvForm.Dense, directory, $"P{part}-dense")));
            }
            var runners = files.Select(f => (f.Form, Runner: new OnnxRunner(f.Path, threads))).ToList();
            try
            {
                foreach (int batch in batches)
                {
                    using var input = randn(new long[] { batch }.Concat(entry.DefaultInput).ToArray());
                    var candidates = runners.Select(r => new TimedCandidate(r.Form, () => r.Runner.Run(input).Dispose())).ToList();
                    var stats = InterleavedTimer.Measure(candidates, warmup, repetitions);
                    rows.AddRange(runners.Select(r => new OnnxLatencyRow(name, r.Form, batch, stats[r.Form])));
                }
            }
            finally
            {
                foreach (var (_, runner) in runners) runner.Dispose();
            }
        }
        return rows;
    }

    private static string Write(nn.Module<Tensor, Tensor> model, ZooEntry entry, OnnxHetConvForm form, string directory, string suffix)
    {
        string path = Path.Combine(directory, $"{entry.Name}-{suffix}.onnx");
        OnnxExport.Save(model, path, entry.DefaultInput, form);
        return path;
    }

    /// <summary>The processor's name and vector extensions, and its logical cores.</summary>
    public static string Processor() =>
        $"{KernelIsa.CpuModel} ({KernelIsa.VectorExtensions}), {Environment.ProcessorCount} logical cores";
}
