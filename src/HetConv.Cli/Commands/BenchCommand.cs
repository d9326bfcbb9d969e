using System.CommandLine;
using System.Text.Json;
using HetConv.Benchmarking;
using HetConv.Layers.Execution.Kernels;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv bench</c>: HetConv against the standard convolution, measured side by side in one process.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "time a whole zoo model (e.g. vgg16-cifar, resnet56) instead of layer shapes" };
        var layers = new Option<string>("--layers")
        {
            Description = "time every HetConv layer shape of a network: vgg16-cifar or resnet56",
            DefaultValueFactory = _ => "vgg16-cifar",
        };
        var only = new Option<string?>("--only") { Description = "only these layers of --layers, comma-separated (e.g. conv4,conv9)" };
        var parts = new Option<string?>("--part", "-p")
        {
            Description = "parts P, comma-separated; C = per-channel (P = M). Default: 1,2,4,8,16,32,64,C for layers, 4 for a model",
        };
        var batches = new Option<string>("--batch", "-b") { Description = "batch sizes, comma-separated (training skips batch 1)", DefaultValueFactory = _ => "1,64" };
        var modes = new Option<string>("--mode") { Description = "inference, training or both", DefaultValueFactory = _ => "inference,training" };
        var quick = new Option<bool>("--quick") { Description = "a short run: P = 4, batch 64, 5 repetitions" };
        var repetitions = new Option<int>("--repetitions") { Description = "timed repetitions per variant", DefaultValueFactory = _ => 15 };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var plotPath = new Option<string?>("--plot") { Description = "layer shapes: also draw the speedup against P beside the FLOPs ratio (PNG)" };
        var isa = new Option<string>("--isa")
        {
            Description = "vector widths to time the fused-nhwc kernels at, side by side: auto (HETCONV_ISA, else the widest the CPU runs), "
                + "or a list of avx512, avx2, vector128 (a width the CPU lacks runs emulated, slowly)",
            DefaultValueFactory = _ => "auto",
        };
        var device = DeviceOption.Create();

        var command = new Command("bench",
            "Time HetConv (every execution strategy) against the standard convolution and the baselines, side by side, " +
            "for a network's layer shapes or a whole zoo model.")
        {
            model, layers, only, parts, batches, modes, quick, repetitions, json, plotPath, isa, device,
        };
        command.SetAction(result =>
        {
            bool isQuick = result.GetValue(quick);
            string? modelName = result.GetValue(model);
            var partList = isQuick ? new[] { "4" } : Split(result.GetValue(parts) ?? (modelName is null ? "1,2,4,8,16,32,64,C" : "4"));
            var batchList = isQuick ? new[] { 64 } : Split(result.GetValue(batches)!).Select(b => ParseInt(b, "--batch")).ToArray();
            var modeList = Split(result.GetValue(modes)!).Select(ParseMode).ToArray();
            int reps = isQuick ? 5 : result.GetValue(repetitions);
            if (reps < 1) throw new CliUsageException($"--repetitions {reps} must be >= 1.");
            var torchDevice = DeviceOption.Resolve(result.GetValue(device)!);
            bool asJson = result.GetValue(json);
            var widths = ParseWidths(result.GetValue(isa)!);
            if (!asJson) Console.Error.WriteLine($"CPU: {BenchWidths.CpuLine}; fused-nhwc at {string.Join(", ", widths.Select(KernelIsa.Name))}");

            if (modelName is not null)
            {
                ModelOptions.Entry(modelName);
                var rows = new List<ModelBenchResult>();
                foreach (var mode in modeList)
                foreach (int batch in batchList.Where(b => mode == BenchMode.Inference || b > 1))
                foreach (var partText in partList)
                {
                    var options = ModelOptions.Resolve(modelName, null, partText, null, false);
                    ModelOptions.Build(modelName, options, null, 3).Dispose();   // a part that does not fit is a usage error
                    var row = ModelBenchmark.Run(modelName, options, batch, mode, warmup: 2, reps, torchDevice, widths);
                    rows.Add(row);
                    if (!asJson) Console.Error.WriteLine(
                        $"{row.Mode,-9} batch {row.Batch,3} {row.Model}_{row.Options}: standard {row.StandardMs:F2} ms ({row.BestStandard}), " +
                        $"HetConv {row.HetConvMs:F2} ms ({row.BestHetConv}): {row.Speedup:F2}x of {row.FlopsRatio:F2}x");
                }
                if (asJson) Console.WriteLine(ModelJson(rows));
                else AnsiConsole.Write(ModelTable(rows));
                return 0;
            }

            var shapes = Parse(() => LayerShape.ForNetwork(result.GetValue(layers)!));
            if (result.GetValue(only) is { } names)
            {
                var wanted = Split(names);
                var unknown = wanted.Except(shapes.Select(s => s.Name)).ToArray();
                if (unknown.Length > 0)
                    throw new CliUsageException($"--only: no layer {string.Join(", ", unknown)}; valid: {string.Join(", ", shapes.Select(s => s.Name))}.");
                shapes = shapes.Where(s => wanted.Contains(s.Name)).ToArray();
            }
            var layerRows = new List<LayerBenchResult>();
            foreach (var mode in modeList)
            foreach (int batch in batchList)
            foreach (var partText in partList)
            foreach (var shape in shapes)
            {
                int part = partText is "C" or "c" ? shape.InChannels : ParseInt(partText, "--part");
                if (shape.InChannels % part != 0) continue;
                var row = LayerBenchmark.Run(shape, part, batch, mode, warmup: 2, reps, torchDevice, widths);
                layerRows.Add(row);
                if (!asJson) Console.Error.WriteLine(
                    $"{row.Mode,-9} batch {row.Batch,3} P={row.Part,-3} {row.Shape.Name,-12} standard {row.StandardMs,8:F3} ms ({row.BestStandard}), " +
                    $"HetConv {row.HetConvMs,8:F3} ms ({row.BestHetConv}): {row.Speedup:F2}x of {row.FlopsRatio:F2}x");
            }
            if (asJson) Console.WriteLine(LayerJson(layerRows));
            else AnsiConsole.Write(LayerTable(layerRows));
            if (result.GetValue(plotPath) is { } png)
            {
                SpeedupPlot.Save(png, layerRows, $"HetConv speedup, {result.GetValue(layers)} layer shapes");
                Console.Error.WriteLine($"plot: {Path.GetFullPath(png)}");
            }
            return 0;
        });
        return command;
    }

    private static Table ModelTable(IReadOnlyList<ModelBenchResult> rows)
    {
        var table = new Table().AddColumns("mode", "batch", "model", "standard ms (best config)", "HetConv ms (best config)",
            "isa", "speedup", "FLOPs ratio", "% of ratio");
        foreach (var r in rows)
            table.AddRow(r.Mode.ToString().ToLowerInvariant(), $"{r.Batch}", $"{r.Model}_{r.Options}",
                $"{r.StandardMs:F2} ({r.BestStandard})", $"{r.HetConvMs:F2} ({r.BestHetConv})", r.BestHetConvIsa,
                $"{r.Speedup:F2}x", $"{r.FlopsRatio:F2}x", $"{100 * r.Speedup / r.FlopsRatio:F0}%");
        table.Caption($"CPU: {Markup.Escape(BenchWidths.CpuLine)}");
        return table;
    }

    private static Table LayerTable(IReadOnlyList<LayerBenchResult> rows)
    {
        var table = new Table().AddColumns("mode", "batch", "P", "layer", "M->N @ size", "standard ms", "HetConv ms",
            "best strategy", "isa", "speedup", "FLOPs ratio", "% of ratio");
        foreach (var r in rows)
            table.AddRow(r.Mode.ToString().ToLowerInvariant(), $"{r.Batch}", $"{r.Part}", r.Shape.Name,
                $"{r.Shape.InChannels}->{r.Shape.OutChannels} @ {r.Shape.Size}{(r.Shape.Stride > 1 ? "/2" : "")}",
                $"{r.StandardMs:F3} ({r.BestStandard})", $"{r.HetConvMs:F3}", r.BestHetConv, r.BestHetConvIsa,
                $"{r.Speedup:F2}x", $"{r.FlopsRatio:F2}x", $"{100 * r.Speedup / r.FlopsRatio:F0}%");
        table.Caption($"CPU: {Markup.Escape(BenchWidths.CpuLine)}");
        return table;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

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
        row["isa"] = r.BestHetConvIsa;
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

    public static string ModelJson(IReadOnlyList<ModelBenchResult> rows) => JsonSerializer.Serialize(rows.Select(r => Row(r,
        ("model", r.Model), ("part", r.Options.ToString()), ("batch", r.Batch), ("mode", r.Mode.ToString().ToLowerInvariant()))),
        Indented);

    public static string LayerJson(IReadOnlyList<LayerBenchResult> rows) => JsonSerializer.Serialize(rows.Select(r => Row(r,
        ("layer", r.Shape.Name), ("in_channels", r.Shape.InChannels), ("out_channels", r.Shape.OutChannels),
        ("size", r.Shape.Size), ("stride", r.Shape.Stride), ("part", r.Part), ("batch", r.Batch),
        ("mode", r.Mode.ToString().ToLowerInvariant()))), Indented);

    /// <summary>--isa: auto (the width the kernels would choose) or widths by name.</summary>
    private static IReadOnlyList<VectorWidth> ParseWidths(string list)
    {
        var widths = new List<VectorWidth>();
        foreach (var name in Split(list))
        {
            var width = Parse(() => KernelIsa.Parse(name, "--isa")) ?? KernelIsa.Current;
            if (!widths.Contains(width)) widths.Add(width);
        }
        return widths.Count > 0 ? widths : throw new CliUsageException($"--isa: give a width; valid: {string.Join(", ", KernelIsa.Names)}.");
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static int ParseInt(string text, string option) =>
        int.TryParse(text, out int value) && value > 0
            ? value
            : throw new CliUsageException($"{option}: '{text}' is not a positive whole number.");

    private static BenchMode ParseMode(string text) => text.ToLowerInvariant() switch
    {
        "inference" => BenchMode.Inference,
        "training" => BenchMode.Training,
        _ => throw new CliUsageException($"--mode: '{text}' is not a mode; valid: inference, training."),
    };

    private static T Parse<T>(Func<T> parse)
    {
        try { return parse(); }
        catch (ArgumentException e) { throw new CliUsageException(e.Message, e); }
    }
}
