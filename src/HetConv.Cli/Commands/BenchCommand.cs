using System.CommandLine;
using HetConv.Benchmarking;
using HetConv.Files;
using HetConv.Layers.Execution.Kernels;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv bench</c>: HetConv against the standard convolution, measured side by side in one process (<see cref="BenchSweep"/>).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("bench",
            "Time HetConv (every execution strategy) against the standard convolution and the baselines, side by side, " +
            "for a network's layer shapes or a whole zoo model.")
        {
            o.Model, o.Layers, o.Only, o.Parts, o.Batches, o.Modes, o.Quick, o.Repetitions, o.Json, o.Plot, o.Isa, o.Device,
        };
        command.SetAction(result =>
        {
            var plan = o.Plan(result);
            var device = DeviceOption.Resolve(result.GetValue(o.Device)!);
            bool json = result.GetValue(o.Json);
            string? png = result.GetValue(o.Plot) is { } path ? OutputDirectory.CheckFile(path) : null;
            var widths = CliUsageException.Wrap(() => BenchSweep.ParseWidths(plan.Widths));
            if (!json) Console.Error.WriteLine($"CPU: {BenchWidths.CpuLine}; fused-nhwc at {string.Join(", ", widths.Select(KernelIsa.Name))}");
            if (plan.Model is not null)
            {
                var rows = CliUsageException.Wrap(() => BenchSweep.RunModel(plan, device, json ? null : r => Progress(r, $"{r.Model}_{r.Options}")));
                if (json) Console.WriteLine(BenchJson.Models(rows));
                else AnsiConsole.Write(ModelTable(rows));
                return 0;
            }
            var layerRows = CliUsageException.Wrap(() => BenchSweep.RunLayers(plan, device, json ? null : r => Progress(r, $"P={r.Part,-3} {r.Shape.Name,-12}")));
            if (json) Console.WriteLine(BenchJson.Layers(layerRows));
            else AnsiConsole.Write(LayerTable(layerRows));
            if (png is null) return 0;
            SpeedupPlot.Save(png, layerRows, $"HetConv speedup, {plan.Layers} layer shapes");
            Console.Error.WriteLine($"plot: {png}");
            return 0;
        });
        return command;
    }

    /// <summary>The command's options; their defaults are the library's (<see cref="BenchPlan"/>).</summary>
    private sealed class Options
    {
        private static readonly BenchPlan Defaults = new();

        public readonly Option<string?> Model = new("--model", "-m") { Description = "time a whole zoo model (e.g. vgg16-cifar, resnet56) instead of layer shapes" };
        public readonly Option<string> Layers = new("--layers")
        {
            Description = "time every HetConv layer shape of a network: vgg16-cifar or resnet56",
            DefaultValueFactory = _ => Defaults.Layers,
        };
        public readonly Option<string?> Only = new("--only") { Description = "only these layers of --layers, comma-separated (e.g. conv4,conv9)" };
        public readonly Option<string?> Parts = new("--part", "-p")
        {
            Description = $"parts P, comma-separated; C = per-channel (P = M). Default: {BenchPlan.DefaultLayerParts} for layers, {BenchPlan.DefaultModelParts} for a model",
        };
        public readonly Option<string> Batches = new("--batch", "-b")
        {
            Description = "batch sizes, comma-separated (a model's training skips batch 1)",
            DefaultValueFactory = _ => Defaults.Batches,
        };
        public readonly Option<string> Modes = new("--mode") { Description = "inference, training or both", DefaultValueFactory = _ => Defaults.Modes };
        public readonly Option<bool> Quick = new("--quick") { Description = "a short run: P = 4, batch 64, 5 repetitions" };
        public readonly Option<int> Repetitions = new("--repetitions") { Description = "timed repetitions per variant", DefaultValueFactory = _ => Defaults.Repetitions };
        public readonly Option<bool> Json = new("--json") { Description = "print JSON instead of a table" };
        public readonly Option<string?> Plot = new("--plot") { Description = "layer shapes: also draw the speedup against P beside the FLOPs ratio (PNG)" };
        public readonly Option<string> Isa = new("--isa")
        {
            Description = "vector widths to time the fused-nhwc kernels at, side by side: auto (HETCONV_ISA, else the widest the CPU runs), "
                + "or a list of avx512, avx2, vector128 (a width the CPU lacks runs emulated, slowly)",
            DefaultValueFactory = _ => Defaults.Widths,
        };
        public readonly Option<string> Device = DeviceOption.Create();

        public BenchPlan Plan(ParseResult result) => new()
        {
            Model = result.GetValue(Model),
            Layers = result.GetValue(Layers)!,
            Only = result.GetValue(Only),
            Parts = result.GetValue(Parts),
            Batches = result.GetValue(Batches)!,
            Modes = result.GetValue(Modes)!,
            Quick = result.GetValue(Quick),
            Repetitions = result.GetValue(Repetitions),
            Widths = result.GetValue(Isa)!,
        };
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
            "isa", "speedup", "FLOPs ratio", "% of ratio");
        foreach (var r in rows)
            table.AddRow(BenchJson.Name(r.Mode), $"{r.Batch}", $"{r.Model}_{r.Options}",
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
            table.AddRow(BenchJson.Name(r.Mode), $"{r.Batch}", $"{r.Part}", r.Shape.Name,
                $"{r.Shape.InChannels}->{r.Shape.OutChannels} @ {r.Shape.Size}{(r.Shape.Stride > 1 ? "/2" : "")}",
                $"{r.StandardMs:F3} ({r.BestStandard})", $"{r.HetConvMs:F3}", r.BestHetConv, r.BestHetConvIsa,
                $"{r.Speedup:F2}x", $"{r.FlopsRatio:F2}x", $"{100 * r.Speedup / r.FlopsRatio:F0}%");
        table.Caption($"CPU: {Markup.Escape(BenchWidths.CpuLine)}");
        return table;
    }
}
