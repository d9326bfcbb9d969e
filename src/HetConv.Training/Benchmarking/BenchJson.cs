using System.Text.Json;
using HetConv.Layers.Execution.Kernels;
using HetConv.Training;

namespace HetConv.Benchmarking;

/// <summary>
/// The JSON of <c>hetconv bench --json</c>: one object per row, with what was timed, the best standard and HetConv
/// variants (median milliseconds), the speedup, the FLOPs ratio, and every variant's median, 10th and 90th
/// percentile, in the settings of every file a run writes (<see cref="TrainingOptions.Json"/>).
/// </summary>
public static class BenchJson
{
    private static JsonSerializerOptions Indented => TrainingOptions.Json;

    public static string Models(IReadOnlyList<ModelBenchResult> rows) => JsonSerializer.Serialize(rows.Select(r => Row(r,
        ("model", r.Model), ("part", r.Options.ToString()), ("batch", r.Batch), ("mode", Name(r.Mode)))), Indented);

    public static string Layers(IReadOnlyList<LayerBenchResult> rows) => JsonSerializer.Serialize(rows.Select(r => Row(r,
        ("layer", r.Shape.Name), ("in_channels", r.Shape.InChannels), ("out_channels", r.Shape.OutChannels),
        ("size", r.Shape.Size), ("stride", r.Shape.Stride), ("part", r.Part), ("batch", r.Batch), ("mode", Name(r.Mode)))), Indented);

    public static string Name(BenchMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>The fields every row has: the best of each side, the speedup, and every variant's timing.</summary>
    private static Dictionary<string, object> Row(SideBySideResult r, params (string Key, object Value)[] identity)
    {
        var row = identity.ToDictionary(f => f.Key, f => f.Value);
        row["standard_ms"] = r.StandardMs;
        row["hetconv_ms"] = r.HetConvMs;
        row["speedup"] = r.Speedup;
        row["flops_ratio"] = r.FlopsRatio;
        row["best_standard"] = r.BestStandard;
        row["best_hetconv"] = r.BestHetConv;
        row["cpu"] = KernelIsa.CpuModel;
        row["vector_extensions"] = KernelIsa.VectorExtensions;
        row["isa"] = BenchWidths.IsaOf(r.BestHetConv);
        row["candidates"] = r.Timings.ToDictionary(t => t.Key, t => new
        {
            kind = r.Kinds[t.Key].ToString().ToLowerInvariant(),
            isa = r.Kinds[t.Key] == CandidateKind.HetConv ? BenchWidths.IsaOf(t.Key) : BenchWidths.Libtorch,
            median_ms = t.Value.MedianMs,
            p10_ms = t.Value.P10Ms,
            p90_ms = t.Value.P90Ms,
        });
        return row;
    }
}
