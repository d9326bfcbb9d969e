using System.CommandLine;
using System.Globalization;
using HetConv.Data;
using HetConv.Training;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary>
/// <c>hetconv eval</c>: a checkpoint's accuracy on a data set, per class and as a confusion matrix (table and
/// PNG), and its mean latency per image (<see cref="Evaluator"/>).
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "checkpoint written by hetconv train (last.ckpt or best.ckpt)", Required = true };
        var data = new Option<string?>("--data") { Description = "data directory (default: the one the model was trained on)" };
        var dataSet = new Option<string?>("--dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100, folder or auto (default: the training run's)" };
        var badImages = new Option<string?>("--bad-images") { Description = "image folders: fail or skip on an image that cannot be decoded (default: the training run's)" };
        badImages.AcceptOnlyFromAmong("fail", "skip");
        var split = new Option<string>("--split") { Description = "test or train", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("test", "train");
        var limit = new Option<int?>("--limit") { Description = "evaluate only the first N images" };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "images per batch", DefaultValueFactory = _ => EvaluationRequest.DefaultBatchSize };
        var device = DeviceOption.Create();
        var threads = ThreadsOption.Create();
        var output = new Option<string?>("--out", "-o")
        {
            Description = $"directory for {Evaluator.ConfusionPlot} and {Evaluator.ResultFile} (default: the checkpoint's directory)",
        };
        var command = new Command("eval", "Evaluate a checkpoint: accuracy, per-class accuracy, confusion matrix, latency per image.")
        {
            checkpoint, data, dataSet, split, limit, batchSize, device, output, threads, badImages,
        };
        command.SetAction(result =>
        {
            ThreadsOption.Apply(result, threads);
            var request = new EvaluationRequest
            {
                Checkpoint = result.GetValue(checkpoint)!,
                DataDirectory = result.GetValue(data),
                DataSet = result.GetValue(dataSet),
                Split = result.GetValue(split) == "train" ? DataSplit.Train : DataSplit.Test,
                Limit = result.GetValue(limit),
                BatchSize = result.GetValue(batchSize),
                Device = result.GetValue(device)!,
                OutDirectory = result.GetValue(output),
                BadImages = result.GetValue(badImages) is { } policy ? ImageFolderOptions.Policy(policy) : null,
            };
            var report = CliUsageException.Wrap(() => Evaluator.Run(request));
            Write(report);
            Console.Out.WriteLine($"Wrote {report.PlotPath} and {report.ResultPath}");
            return 0;
        });
        return command;
    }

    private static void Write(EvaluationReport report)
    {
        var culture = CultureInfo.InvariantCulture;
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(culture,
            $"{report.Checkpoint} on {report.DataSet}: accuracy {100 * report.Accuracy:F2}% ({report.Images} images), loss {report.Loss:F4}")));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(culture,
            $"mean latency per image: {1000 * report.SecondsPerImage:F3} ms at batch {report.BatchSize}, {1000 * report.SecondsPerImageBatch1:F3} ms at batch 1")));

        var names = report.ClassAccuracy.Keys.ToArray();
        var perClass = new Table().AddColumns("class", "images", "accuracy");
        for (int c = 0; c < names.Length; c++)
        {
            double accuracy = report.ClassAccuracy[names[c]];
            perClass.AddRow(Markup.Escape(names[c]), report.Confusion[c].Sum().ToString(culture),
                double.IsFinite(accuracy) ? string.Create(culture, $"{100 * accuracy:F2}%") : "-");
        }
        AnsiConsole.Write(perClass);

        if (names.Length > 20)
        {
            AnsiConsole.MarkupLine($"(confusion matrix of {names.Length} classes: see the PNG and JSON)");
            return;
        }
        var confusion = new Table().Title("confusion matrix (rows: true class, columns: predicted)");
        confusion.AddColumn("true \\ predicted");
        for (int p = 0; p < names.Length; p++) confusion.AddColumn(new TableColumn(p.ToString(culture)).RightAligned());
        for (int t = 0; t < names.Length; t++)
            confusion.AddRow(new[] { Markup.Escape($"{t} {names[t]}") }
                .Concat(report.Confusion[t].Select((count, p) => t == p ? $"[bold]{count}[/]" : count.ToString(culture)))
                .ToArray());
        AnsiConsole.Write(confusion);
    }
}
