using System.CommandLine;
using System.Globalization;
using HetConv.Interop;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary>
/// <c>hetconv onnx-latency</c>: ONNX Runtime's latency for zoo models, standard against HetConv in both ONNX forms,
/// timed side by side.
/// </summary>
public static class OnnxLatencyCommand
{
    public static Command Create()
    {
        var models = new Option<string>("--model", "-m") { Description = "zoo models, comma-separated", DefaultValueFactory = _ => "vgg16-cifar,resnet56" };
        var part = new Option<int>("--part") { Description = "HetConv's part P", DefaultValueFactory = _ => 4 };
        var batches = new Option<string>("--batch") { Description = "batch sizes, comma-separated", DefaultValueFactory = _ => "1,64" };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "timed runs of each candidate", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "untimed runs first", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime's intra-op threads (0: one per core)", DefaultValueFactory = _ => 0 };
        var command = new Command("onnx-latency", "Time ONNX Runtime on standard and HetConv exports of zoo models, side by side.")
        {
            models, part, batches, repetitions, warmup, threads,
        };
        command.SetAction(result =>
        {
            var rows = CliUsageException.Wrap(() => OnnxLatency.Measure(result.GetValue(models)!, result.GetValue(part), result.GetValue(batches)!,
                result.GetValue(warmup), result.GetValue(repetitions), result.GetValue(threads)));
            Render(rows);
            return 0;
        });
        return command;
    }

    private static void Render(IReadOnlyList<OnnxLatencyRow> rows)
    {
        var culture = CultureInfo.InvariantCulture;
        Console.Out.WriteLine($"ONNX Runtime on {OnnxLatency.Processor()}");
        var table = new Table().AddColumns("model", "batch", "form", "median ms", "p10 ms", "p90 ms", "vs standard");
        foreach (var group in rows.GroupBy(r => (r.Model, r.Batch)))
        {
            double standard = group.First(r => r.Form == OnnxLatency.Standard).Stats.MedianMs;
            foreach (var row in group)
                table.AddRow(row.Model, row.Batch.ToString(culture), row.Form,
                    row.Stats.MedianMs.ToString("F3", culture), row.Stats.P10Ms.ToString("F3", culture), row.Stats.P90Ms.ToString("F3", culture),
                    (standard / row.Stats.MedianMs).ToString("F2", culture) + "x");
        }
        AnsiConsole.Write(table);
    }
}
