using System.Globalization;
using HetConv.Layers.Execution.Kernels;
using HetConv.Models;
using static TorchSharp.torch;

namespace HetConv.Benchmarking;

/// <summary>
/// What <c>hetconv bench</c> times, as given on the command line: a zoo model or a network's layer shapes, and
/// comma-separated parts (C: per-channel, P = M), batch sizes and modes. Null parts take the defaults.
/// </summary>
public sealed record BenchPlan
{
    public string? Model { get; init; }
    public string Layers { get; init; } = "vgg16-cifar";

    /// <summary>Only these layers of <see cref="Layers"/> (comma-separated), or all.</summary>
    public string? Only { get; init; }

    public string? Parts { get; init; }
    public string Batches { get; init; } = "1,64";
    public string Modes { get; init; } = "inference,training";

    /// <summary>A short run: P = 4, batch 64, 5 repetitions, whatever else is asked.</summary>
    public bool Quick { get; init; }

    public int Repetitions { get; init; } = 15;

    /// <summary>
    /// The vector widths to time the fused kernels at, side by side: "auto" (HETCONV_ISA, else the widest the CPU
    /// runs) or comma-separated names (<see cref="KernelIsa.Names"/>).
    /// </summary>
    public string Widths { get; init; } = "auto";

    /// <summary>Layer shapes: every part a network is usually timed at; a model: the paper's P = 4.</summary>
    public const string DefaultLayerParts = "1,2,4,8,16,32,64,C", DefaultModelParts = "4";
}

/// <summary>
/// The sweep rules: every mode x batch x part (x layer shape) of a plan, timed side by side. A layer shape whose
/// channels a part does not divide is skipped; for a whole model such a part is refused before anything is
/// timed. Training skips batch 1 for whole models (their BatchNorm needs more than one value per channel).
/// Bad plan values are <see cref="ArgumentException"/>s that name the value.
/// </summary>
public static class BenchSweep
{
    private const int Warmup = 2;

    public static IReadOnlyList<ModelBenchResult> RunModel(BenchPlan plan, Device device, Action<ModelBenchResult>? done = null)
    {
        var (parts, batches, modes, repetitions) = Settings(plan, BenchPlan.DefaultModelParts);
        string model = ModelZoo.Get(plan.Model!).Name;
        var options = parts.Select(p => ModelZoo.ResolveOptions(model, null, p, null, false)).ToArray();
        foreach (var o in options)
            ModelZoo.Create(model, o).Dispose();   // a part that does not fit the model fails here, before any timing
        var rows = new List<ModelBenchResult>();
        foreach (var mode in modes)
        foreach (int batch in batches.Where(b => mode == BenchMode.Inference || b > 1))
        foreach (var o in options)
        {
            var row = ModelBenchmark.Run(model, o, batch, mode, Warmup, repetitions, device, ParseWidths(plan.Widths));
            rows.Add(row);
            done?.Invoke(row);
        }
        return rows;
    }

    public static IReadOnlyList<LayerBenchResult> RunLayers(BenchPlan plan, Device device, Action<LayerBenchResult>? done = null)
    {
        var (parts, batches, modes, repetitions) = Settings(plan, BenchPlan.DefaultLayerParts);
        var shapes = Shapes(plan);
        var rows = new List<LayerBenchResult>();
        foreach (var mode in modes)
        foreach (int batch in batches)
        foreach (var partText in parts)
        foreach (var shape in shapes)
        {
            int part = partText is "C" or "c" ? shape.InChannels : PositiveInt(partText, "part");
            if (shape.InChannels % part != 0) continue;
            var row = LayerBenchmark.Run(shape, part, batch, mode, Warmup, repetitions, device, ParseWidths(plan.Widths));
            rows.Add(row);
            done?.Invoke(row);
        }
        return rows;
    }

    /// <summary>The plan's widths, in order, each once; "auto" is the width the kernels would choose.</summary>
    public static IReadOnlyList<VectorWidth> ParseWidths(string list)
    {
        var widths = Split(list).Select(name => KernelIsa.Parse(name, "isa") ?? KernelIsa.Current).Distinct().ToArray();
        return widths.Length > 0 ? widths : throw new ArgumentException($"isa: give a width; valid: {string.Join(", ", KernelIsa.Names)}.");
    }

    private static (string[] Parts, int[] Batches, BenchMode[] Modes, int Repetitions) Settings(BenchPlan plan, string defaultParts)
    {
        ParseWidths(plan.Widths);
        var modes = Split(plan.Modes).Select(ParseMode).ToArray();
        if (plan.Quick)
            return (new[] { "4" }, new[] { 64 }, modes, 5);
        if (plan.Repetitions < 1)
            throw new ArgumentException($"repetitions: {plan.Repetitions} must be >= 1.");
        var parts = Split(plan.Parts ?? defaultParts);
        foreach (var p in parts.Where(p => p is not ("C" or "c"))) PositiveInt(p, "part");
        return (parts, PositiveInts(plan.Batches, "batch size"), modes, plan.Repetitions);
    }

    private static IReadOnlyList<LayerShape> Shapes(BenchPlan plan)
    {
        var shapes = LayerShape.ForNetwork(plan.Layers);
        if (plan.Only is null) return shapes;
        var wanted = Split(plan.Only);
        var unknown = wanted.Except(shapes.Select(s => s.Name)).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"no layer {string.Join(", ", unknown)} in {plan.Layers}; valid: {string.Join(", ", shapes.Select(s => s.Name))}.");
        return shapes.Where(s => wanted.Contains(s.Name)).ToArray();
    }

    /// <summary>Comma-separated positive whole numbers (e.g. batch sizes), each refused by name when it is not one.</summary>
    public static int[] PositiveInts(string list, string what) => Split(list).Select(b => PositiveInt(b, what)).ToArray();

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static int PositiveInt(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{what} '{text}' is not a positive whole number.");

    private static BenchMode ParseMode(string text) => text.ToLowerInvariant() switch
    {
        "inference" => BenchMode.Inference,
        "training" => BenchMode.Training,
        _ => throw new ArgumentException($"mode '{text}' is not a mode; valid: inference, training."),
    };
}
