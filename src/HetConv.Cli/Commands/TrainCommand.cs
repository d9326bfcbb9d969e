using System.CommandLine;
using System.Globalization;
using HetConv.Data;
using HetConv.Plotting;
using HetConv.Training;

namespace HetConv.Cli.Commands;

/// <summary>
/// <c>hetconv train</c>: trains a zoo model on an image data set. With no arguments it is the project's main job:
/// ResNet-20 with HetConv P = 4 on Fashion-MNIST, 4 epochs of SGD (Nesterov, one-cycle schedule peaking at 0.1).
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new TrainingOptions();
        var model = new Option<string>("--model", "-m") { Description = "zoo model (resnet20, resnet56, vgg16-cifar, ...)", DefaultValueFactory = _ => defaults.Model };
        var conv = ModelOptions.Conv();
        conv.Description = "convolution kind for every KxK layer after the stem: standard, hetconv, gwc-pwc, dwc-pwc (default: hetconv)";
        var part = ModelOptions.Part();
        part.Description += " (default: 4 with hetconv; 1 is a standard convolution)";
        var groups = ModelOptions.Groups();
        var se = ModelOptions.SqueezeExcitation();
        var data = new Option<string>("--data") { Description = "data directory: MNIST-format IDX files (raw or .gz) or CIFAR-10/100 binary files", DefaultValueFactory = _ => DataSets.DefaultDirectory };
        var dataSet = new Option<string>("--dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100 or auto (from the directory's files)", DefaultValueFactory = _ => "auto" };
        var epochs = new Option<int>("--epochs", "-e") { Description = "epochs to train", DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "images per batch", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "learning rate (the peak for onecycle)", DefaultValueFactory = _ => defaults.Schedule.LearningRate };
        var schedule = new Option<string>("--schedule") { Description = "onecycle, cosine, step, multistep or constant", DefaultValueFactory = _ => "onecycle" };
        var warmup = new Option<double>("--warmup") { Description = "onecycle: fraction of the run spent warming up", DefaultValueFactory = _ => defaults.Schedule.WarmupFraction };
        var stepEpochs = new Option<int>("--step-epochs") { Description = "step: epochs between decays (the paper's VGG-16: 50)", DefaultValueFactory = _ => defaults.Schedule.StepEpochs };
        var milestones = new Option<string>("--milestones") { Description = "multistep: comma-separated epochs to decay at (He et al.: 82,123 of 164)", DefaultValueFactory = _ => "82,123" };
        var gamma = new Option<double>("--gamma") { Description = "step/multistep: decay factor", DefaultValueFactory = _ => defaults.Schedule.Gamma };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => defaults.Momentum };
        var nesterov = new Option<bool>("--nesterov") { Description = "Nesterov momentum; --nesterov false for classical momentum (default: true)", DefaultValueFactory = _ => defaults.Nesterov };
        var weightDecay = new Option<double>("--weight-decay", "--wd") { Description = "weight decay (L2)", DefaultValueFactory = _ => defaults.WeightDecay };
        var noAugment = new Option<bool>("--no-augment") { Description = "train without random crops and flips" };
        var seed = new Option<long>("--seed") { Description = "seed for initialisation, data order and augmentation", DefaultValueFactory = _ => defaults.Seed };
        var device = DeviceOption.Create();
        var trainLimit = new Option<int?>("--train-limit") { Description = "use only the first N training images" };
        var testLimit = new Option<int?>("--test-limit") { Description = "use only the first N test images" };
        var output = new Option<string?>("--out", "-o") { Description = "run directory for checkpoints, metrics, plots and summary (default: runs/<model>-<conv>-<dataset>-<time>)" };
        var threads = ThreadsOption.Create();
        var resume = new Option<string?>("--resume") { Description = "continue the run in this directory from its last checkpoint (its options are kept)" };

        var command = new Command("train", "Train a model on images; with no arguments, the main job: HetConv ResNet-20 (P = 4) on Fashion-MNIST.")
        {
            model, conv, part, groups, se, data, dataSet, epochs, batchSize, lr, schedule, warmup, stepEpochs, milestones, gamma,
            momentum, nesterov, weightDecay, noAugment, seed, device, trainLimit, testLimit, output, resume, threads,
        };
        command.SetAction(result =>
        {
            ThreadsOption.Apply(result, threads);
            if (result.GetValue(resume) is { } runDirectory)
                return Resume(runDirectory);

            string? convWord = result.GetValue(conv);
            string? partWord = result.GetValue(part) ?? (convWord is null || convWord.Trim().Equals("hetconv", StringComparison.OrdinalIgnoreCase) ? "4" : null);
            string dataDirectory = result.GetValue(data)!;
            var kind = DataSetLoading.Kind(result.GetValue(dataSet)!, dataDirectory);
            var options = new TrainingOptions
            {
                Model = result.GetValue(model)!,
                Conv = convWord,
                Part = partWord,
                Groups = result.GetValue(groups),
                SqueezeExcitation = result.GetValue(se),
                DataSet = DataSets.Name(kind),
                DataDirectory = Path.GetFullPath(dataDirectory),
                TrainLimit = result.GetValue(trainLimit),
                TestLimit = result.GetValue(testLimit),
                Epochs = result.GetValue(epochs),
                BatchSize = result.GetValue(batchSize),
                Schedule = new LearningRateSchedule
                {
                    Kind = ParseSchedule(result.GetValue(schedule)!),
                    LearningRate = result.GetValue(lr),
                    WarmupFraction = result.GetValue(warmup),
                    StepEpochs = result.GetValue(stepEpochs),
                    Milestones = ParseMilestones(result.GetValue(milestones)!),
                    Gamma = result.GetValue(gamma),
                },
                Momentum = result.GetValue(momentum),
                Nesterov = result.GetValue(nesterov),
                WeightDecay = result.GetValue(weightDecay),
                Augment = !result.GetValue(noAugment),
                Seed = result.GetValue(seed),
                Device = result.GetValue(device)!,
            };
            Usage(() =>
            {
                options.Validate();
                Trainer.ParseDevice(options.Device);
            });
            ModelOptions.Entry(options.Model);
            var convOptions = ModelOptions.Resolve(options.Model, options.Conv, options.Part, options.Groups, options.SqueezeExcitation);
            string outDirectory = HetConv.Files.OutputDirectory.Check(result.GetValue(output)
                ?? Path.Combine("runs", $"{options.Model}-{Trainer.ConvDescription(options)}-{options.DataSet}-{DateTime.Now:yyyyMMdd-HHmmss}"));
            if (File.Exists(Path.Combine(outDirectory, Trainer.LastCheckpoint)))
                throw new CliUsageException($"{outDirectory} already holds a run; continue it with --resume {outDirectory} or choose another --out.");

            var train = DataSetLoading.Load(kind, dataDirectory, DataSplit.Train);
            var test = DataSetLoading.Load(kind, dataDirectory, DataSplit.Test);
            // Settings only the model can check (e.g. a part that does not divide a layer's channels).
            ModelOptions.Build(options.Model, convOptions, train.ClassCount, train.Channels).Dispose();
            Console.Out.WriteLine(Invariant(
                $"Training {options.Model} {Trainer.ConvDescription(options)} on {options.DataSet} ({Math.Min(train.Count, options.TrainLimit ?? int.MaxValue)} training / {Math.Min(test.Count, options.TestLimit ?? int.MaxValue)} test images, {train.Channels}x{train.Height}x{train.Width}, {train.ClassCount} classes), {options.Epochs} epochs; outputs in {Path.GetFullPath(outDirectory)}"));
            return Run(outDirectory, observer => new Trainer(ModelFactories.Zoo, observer).Train(options, train, test, outDirectory, Cancellation()));
        });
        return command;
    }

    private static int Resume(string runDirectory)
    {
        if (!File.Exists(Path.Combine(runDirectory, Trainer.LastCheckpoint)))
            throw new CliUsageException($"{runDirectory} holds no checkpoint ({Trainer.LastCheckpoint}) to resume from.");
        TrainingOptions options;
        try
        {
            options = Trainer.OptionsOf(runDirectory);
        }
        catch (DataFormatException e)
        {
            throw new CliUsageException(e.Message, e);
        }
        var kind = DataSets.Parse(options.DataSet);
        var train = DataSetLoading.Load(kind, options.DataDirectory, DataSplit.Train);
        var test = DataSetLoading.Load(kind, options.DataDirectory, DataSplit.Test);
        Console.Out.WriteLine($"Resuming {options.Model} {Trainer.ConvDescription(options)} on {options.DataSet} in {Path.GetFullPath(runDirectory)}");
        return Run(runDirectory, observer => new Trainer(ModelFactories.Zoo, observer).Resume(runDirectory, train, test, Cancellation()));
    }

    private static int Run(string runDirectory, Func<ITrainingObserver, TrainingSummary> training)
    {
        try
        {
            var summary = ConsoleTrainingView.Show(training);
            Console.Out.WriteLine(Invariant(
                $"Done: best test accuracy {100 * summary.BestTestAccuracy:F2}% (epoch {summary.BestEpoch}), final {100 * summary.FinalTestAccuracy:F2}%, {summary.TotalSeconds / 60:F1} min, {summary.ImagesPerSecond:F0} images/s."));
            Console.Out.WriteLine($"Outputs in {summary.RunDirectory}: {Trainer.SummaryFile}, {Trainer.MetricsFile}, {Trainer.LossPlot}, {Trainer.AccuracyPlot}, {Trainer.LastCheckpoint}, {Trainer.BestCheckpoint}, {Trainer.ConfigFile}");
            if (!PlotFonts.EnsureRegistered())
                Console.Error.WriteLine($"warning: {PlotFonts.DejaVuSansPath} is missing, so the plots have no text; install it with: {PlotFonts.InstallHint}");
            return 0;
        }
        catch (NonFiniteLossException e)
        {
            Console.Error.WriteLine($"error: {e.Message} {LastGood(runDirectory)} Try a lower --lr.");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"Stopped. {LastGood(runDirectory)} Continue with: hetconv train --resume {runDirectory}");
            return 130;
        }
    }

    private static string LastGood(string runDirectory)
    {
        string last = Path.Combine(runDirectory, Trainer.LastCheckpoint);
        return File.Exists(last)
            ? $"The last good checkpoint (epoch {Checkpoint.ReadState(last).EpochsDone}) is kept in {last}."
            : "No epoch had finished, so there is no checkpoint.";
    }

    // Ctrl+C ends the epoch's work early: what is on disk stays the last finished epoch.
    private static CancellationToken Cancellation()
    {
        var source = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            source.Cancel();
        };
        return source.Token;
    }

    private static ScheduleKind ParseSchedule(string name) => name.Trim().ToLowerInvariant() switch
    {
        "onecycle" or "one-cycle" => ScheduleKind.OneCycle,
        "cosine" => ScheduleKind.Cosine,
        "step" => ScheduleKind.Step,
        "multistep" or "multi-step" => ScheduleKind.MultiStep,
        "constant" => ScheduleKind.Constant,
        _ => throw new CliUsageException($"unknown schedule '{name}'; use onecycle, cosine, step, multistep or constant."),
    };

    private static int[] ParseMilestones(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v)
                ? v
                : throw new CliUsageException($"--milestones '{text}' must be comma-separated epochs, e.g. 82,123."))
            .ToArray();

    private static void Usage(Action check)
    {
        try
        {
            check();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message, e);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
