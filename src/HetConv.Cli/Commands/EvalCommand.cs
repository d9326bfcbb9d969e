using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HetConv.Data;
using HetConv.Files;
using HetConv.Training;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Cli.Commands;

/// <summary>
/// <c>hetconv eval</c>: a checkpoint's accuracy on a data set, per class and as a confusion matrix (table and
/// PNG), and its mean latency per image.
/// </summary>
public static class EvalCommand
{
    public const string ConfusionPlot = "confusion.png";
    public const string ResultFile = "eval.json";

    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "checkpoint written by hetconv train (last.ckpt or best.ckpt)", Required = true };
        var data = new Option<string?>("--data") { Description = "data directory (default: the one the model was trained on)" };
        var dataSet = new Option<string?>("--dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100 or auto (default: the training run's)" };
        var split = new Option<string>("--split") { Description = "test or train", DefaultValueFactory = _ => "test" };
        var limit = new Option<int?>("--limit") { Description = "evaluate only the first N images" };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "images per batch", DefaultValueFactory = _ => 256 };
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var threads = ThreadsOption.Create();
        var output = new Option<string?>("--out", "-o") { Description = $"directory for {ConfusionPlot} and {ResultFile} (default: the checkpoint's directory)" };
        var command = new Command("eval", "Evaluate a checkpoint: accuracy, per-class accuracy, confusion matrix, latency per image.")
        {
            checkpoint, data, dataSet, split, limit, batchSize, device, output, threads,
        };
        command.SetAction(result =>
        {
            ThreadsOption.Apply(result, threads);
            string path = result.GetValue(checkpoint)!;
            CheckpointState state;
            try
            {
                state = Checkpoint.ReadState(path);
            }
            catch (DataFormatException e)
            {
                throw new CliUsageException(e.Message, e);
            }
            string directory = result.GetValue(data) ?? state.Options.DataDirectory;
            var kind = DataSetLoading.Kind(result.GetValue(dataSet) ?? (result.GetValue(data) is null ? state.Options.DataSet : "auto"), directory);
            var which = result.GetValue(split)!.Trim().ToLowerInvariant() switch
            {
                "test" => DataSplit.Test,
                "train" => DataSplit.Train,
                var other => throw new CliUsageException($"--split '{other}': use test or train."),
            };
            int size = result.GetValue(batchSize);
            if (size < 1) throw new CliUsageException($"--batch-size {size} must be >= 1.");
            Device target;
            try
            {
                target = Trainer.ParseDevice(result.GetValue(device)!);
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(e.Message, e);
            }
            var images = DataSetLoading.Load(kind, directory, which);
            if (result.GetValue(limit) is { } n)
                images = n >= 1 ? images.Take(n) : throw new CliUsageException($"--limit {n} must be >= 1.");
            if (images.Channels != state.InChannels || images.Height != state.Height || images.Width != state.Width || images.ClassCount != state.ClassNames.Length)
                throw new CliUsageException(
                    $"{path} was trained on {state.InChannels}x{state.Height}x{state.Width} images in {state.ClassNames.Length} classes; {directory} holds {images.Channels}x{images.Height}x{images.Width} in {images.ClassCount}.");

            ModelOptions.Entry(state.Options.Model);
            var conv = ModelOptions.Resolve(state.Options.Model, state.Options.Conv, state.Options.Part, state.Options.Groups, state.Options.SqueezeExcitation);
            using var model = ModelOptions.Build(state.Options.Model, conv, state.ClassNames.Length, state.InChannels);
            try
            {
                Checkpoint.Restore(path, model);
            }
            catch (DataFormatException e)
            {
                throw new CliUsageException(e.Message, e);
            }
            model.to(target);
            using var loader = new BatchLoader(images, size, state.Normalization);
            var evaluation = Evaluation.Run(model, loader, target, images.ClassCount);
            double singleLatency = SingleImageLatency(model, images, state.Normalization, target);

            Report(path, images, evaluation, loader.BatchSize, singleLatency);
            string outDirectory = result.GetValue(output) ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(outDirectory);
            string title = $"{state.Options.Model} {Trainer.ConvDescription(state.Options)} on {images.Name} ({which.ToString().ToLowerInvariant()}): {100 * evaluation.Accuracy:F2}%";
            TrainingPlots.SaveConfusion(Path.Combine(outDirectory, ConfusionPlot), evaluation.Confusion, images.ClassNames, title);
            var json = new
            {
                checkpoint = Path.GetFullPath(path),
                data_set = images.Name,
                split = which.ToString().ToLowerInvariant(),
                images = evaluation.Images,
                accuracy = evaluation.Accuracy,
                loss = evaluation.Loss,
                class_accuracy = images.ClassNames.Zip(evaluation.ClassAccuracy).ToDictionary(p => p.First, p => p.Second),
                confusion = Enumerable.Range(0, images.ClassCount).Select(t => Enumerable.Range(0, images.ClassCount).Select(p => evaluation.Confusion[t, p]).ToArray()).ToArray(),
                batch_size = loader.BatchSize,
                seconds_per_image = evaluation.SecondsPerImage,
                seconds_per_image_batch1 = singleLatency,
            };
            AtomicFile.WriteText(Path.Combine(outDirectory, ResultFile), JsonSerializer.Serialize(json, TrainingOptions.Json));
            Console.Out.WriteLine($"Wrote {Path.Combine(outDirectory, ConfusionPlot)} and {Path.Combine(outDirectory, ResultFile)}");
            return 0;
        });
        return command;
    }

    /// <summary>Mean forward time of one image at batch 1, over up to 100 images after a short warm-up.</summary>
    private static double SingleImageLatency(nn.Module<Tensor, Tensor> model, ImageDataSet images, ChannelNormalization normalization, Device device)
    {
        var sample = images.Take(Math.Min(images.Count, 105));
        using var loader = new BatchLoader(sample, 1, normalization);
        model.eval();
        using var noGrad = no_grad();
        var clock = new Stopwatch();
        int index = 0, timed = 0;
        foreach (var (inputs, _) in loader.Batches())
        {
            using var scope = NewDisposeScope();
            var x = inputs.to(device);
            bool warmUp = index++ < Math.Min(5, sample.Count - 1);
            if (!warmUp) clock.Start();
            model.call(x);
            if (!warmUp)
            {
                clock.Stop();
                timed++;
            }
        }
        return clock.Elapsed.TotalSeconds / Math.Max(timed, 1);
    }

    private static void Report(string path, ImageDataSet images, EvaluationResult evaluation, int batchSize, double singleLatency)
    {
        var culture = CultureInfo.InvariantCulture;
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(culture,
            $"{path} on {images.Name}: accuracy {100 * evaluation.Accuracy:F2}% ({evaluation.Images} images), loss {evaluation.Loss:F4}")));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(culture,
            $"mean latency per image: {1000 * evaluation.SecondsPerImage:F3} ms at batch {batchSize}, {1000 * singleLatency:F3} ms at batch 1")));

        var perClass = new Table().AddColumns("class", "images", "accuracy");
        var accuracy = evaluation.ClassAccuracy;
        for (int c = 0; c < images.ClassCount; c++)
        {
            long total = Enumerable.Range(0, images.ClassCount).Sum(p => evaluation.Confusion[c, p]);
            perClass.AddRow(Markup.Escape(images.ClassNames[c]), total.ToString(culture),
                double.IsNaN(accuracy[c]) ? "-" : string.Create(culture, $"{100 * accuracy[c]:F2}%"));
        }
        AnsiConsole.Write(perClass);

        if (images.ClassCount > 20)
        {
            AnsiConsole.MarkupLine($"(confusion matrix of {images.ClassCount} classes: see the PNG and JSON)");
            return;
        }
        var confusion = new Table().Title("confusion matrix (rows: true class, columns: predicted)");
        confusion.AddColumn("true \\ predicted");
        for (int p = 0; p < images.ClassCount; p++) confusion.AddColumn(new TableColumn(p.ToString(culture)).RightAligned());
        for (int t = 0; t < images.ClassCount; t++)
            confusion.AddRow(new[] { Markup.Escape($"{t} {images.ClassNames[t]}") }
                .Concat(Enumerable.Range(0, images.ClassCount).Select(p => t == p ? $"[bold]{evaluation.Confusion[t, p]}[/]" : evaluation.Confusion[t, p].ToString(culture)))
                .ToArray());
        AnsiConsole.Write(confusion);
    }
}
