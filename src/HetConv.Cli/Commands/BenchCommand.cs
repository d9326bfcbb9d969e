using System.CommandLine;
using HetConv.Benchmarking;
using HetConv.Files;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv bench</c>: HetConv against the standard convolution, measured side by side in one process (<see cref="BenchSweep"/>).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "time a whole zoo model (e.g. vgg16-cifar, resnet56) instead of layer shapes" };
        var layers = new Option<string>("--layers") { Description = "time every HetConv layer shape of a network: vgg16-cifar or resnet56", DefaultValueFactory = _ => new BenchPlan().Layers };
        var only = new Option<string?>("--only") { Description = "only these layers of --layers, comma-separated (e.g. conv4,conv9)" };
        var parts = new Option<string?>("--part", "-p")
        {
            Description = $"parts P, comma-separated; C = per-channel (P = M). Default: {BenchPlan.DefaultLayerParts} for layers, {BenchPlan.DefaultModelParts} for a model",
        };
        var batches = new Option<string>("--batch", "-b") { Description = "batch sizes, comma-separated (a model's training skips batch 1)", DefaultValueFactory = _ => new BenchPlan().Batches };
        var modes = new Option<string>("--mode") { Description = "inference, training or both", DefaultValueFactory = _ => new BenchPlan().Modes };
        var quick = new Option<bool>("--quick") { Description = "a short run: P = 4, batch 64, 5 repetitions" };
        var repetitions = new Option<int>("--repetitions") { Description = "timed repetitions per variant", DefaultValueFactory = _ => new BenchPlan().Repetitions };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var plotPath = new Option<string?>("--plot") { Description = "layer shapes: also draw the speedup against P beside the FLOPs ratio (PNG)" };
        var device = DeviceOption.Create();
        var command = new Command("bench",
            "Time HetConv (every execution strategy) against the standard convolution and the baselines, side by side, for a network's layer shapes or a whole zoo model.")
        {
            model, layers, only, parts, batches, modes, quick, repetitions, json, plotPath, device,
        };
        command.SetAction(result =>
        {
            var plan = new BenchPlan
            {
                Model = result.GetValue(model), Layers = result.GetValue(layers)!, Only = result.GetValue(only), Parts = result.GetValue(parts),
                Batches = result.GetValue(batches)!, Modes = result.GetValue(modes)!, Quick = result.GetValue(quick), Repetitions = result.GetValue(repetitions),
            };
            var torchDevice = DeviceOption.Resolve(result.GetValue(device)!);
            bool asJson = result.GetValue(json);
            string? png = result.GetValue(plotPath) is { } path ? CliUsageException.Wrap(() => OutputDirectory.CheckFile(path)) : null;
            if (plan.Model is not null)
            {
                var rows = CliUsageException.Wrap(() => BenchSweep.RunModel(plan, torchDevice, asJson ? null : r => Progress(r, $"{r.Model}_{r.Options}")));
                if (asJson) Console.WriteLine(BenchJson.Models(rows));
                else AnsiConsole.Write(ModelTable(rows));
                return 0;
            }
            var layerRows = CliUsageException.Wrap(() => BenchSweep.RunLayers(plan, torchDevice, asJson ? null : r => Progress(r, $"P={r.Part,-3} {r.Shape.Name,-12}")));
            if (asJson) Console.WriteLine(BenchJson.Layers(layerRows));
            else AnsiConsole.Write(LayerTable(layerRows));
            if (png is not null)
            {
                SpeedupPlot.Save(png, layerRows, $"HetConv speedup, {plan.Layers} layer shapes");
                Console.Error.WriteLine($"plot: {png}");
            }
            return 0;
        });
        return command;
    }

    private static void Progress(SideBySideResult r, string what)
    {
        var (mode, batch) = r switch
        {
            LayerBenchResult l => (l.Mode, l.Batch),
            ModelBenchResult m => (m.Mode, m.Batch),
            _ => throw new ArgumentOutOfRangeException(nameof(r)),
        };
        Console.Error.WriteLine($"{mode,-9} batch {batch,3} {what} standard {r.StandardMs,8:F3} ms ({r.BestStandard}), " +
                                $"HetConv {r.HetConvMs,8:F3} ms ({r.BestHetConv}): {r.Speedup:F2}x of {r.FlopsRatio:F2}x");
    }

    private static Table ModelTable(IReadOnlyList<ModelBenchResult> rows)
    {
        var table = new Table().AddColumns("mode", "batch", "model", "standard ms (best config)", "HetConv ms (best config)",
            "speedup", "FLOPs ratio", "% of ratio");
        foreach (var r in rows)
            table.AddRow(BenchJson.Name(r.Mode), $"{r.Batch}", $"{r.Model}_{r.Options}",
                $"{r.StandardMs:F2} ({r.BestStandard})", $"{r.HetConvMs:F2} ({r.BestHetConv})",
                $"{r.Speedup:F2}x", $"{r.FlopsRatio:F2}x", $"{100 * r.Speedup / r.FlopsRatio:F0}%");
        return table;
    }

    private static Table LayerTable(IReadOnlyList<LayerBenchResult> rows)
    {
        var table = new Table().AddColumns("mode", "batch", "P", "layer", "M->N @ size", "standard ms", "HetConv ms",
            "best strategy", "speedup", "FLOPs ratio", "% of ratio");
        foreach (var r in rows)
            table.AddRow(BenchJson.Name(r.Mode), $"{r.Batch}", $"{r.Part}", r.Shape.Name,
                $"{r.Shape.InChannels}->{r.Shape.OutChannels} @ {r.Shape.Size}{(r.Shape.Stride > 1 ? "/2" : "")}",
                $"{r.StandardMs:F3} ({r.BestStandard})", $"{r.HetConvMs:F3}", r.BestHetConv,
                $"{r.Speedup:F2}x", $"{r.FlopsRatio:F2}x", $"{100 * r.Speedup / r.FlopsRatio:F0}%");
        return table;
    }
}
