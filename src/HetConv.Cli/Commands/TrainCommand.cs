using System.CommandLine;
using System.Globalization;
using HetConv.Data;
using HetConv.Plotting;
using HetConv.Training;

namespace HetConv.Cli.Commands;

/// <summary>
/// <c>hetconv train</c>: trains a zoo model on an image data set. With no arguments it is the project's main job:
/// ResNet-20 with HetConv P = 4 on Fashion-MNIST, 4 epochs of SGD (Nesterov, one-cycle schedule peaking at 0.1).
/// The rules (defaults, schedules, run directories, what a resume may change) are the library's
/// (<see cref="TrainingOptions"/>, <see cref="ScheduleKinds"/>, <see cref="RunDirectory"/>, <see cref="Trainer"/>).
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var o = new TrainOptions();
        var command = new Command("train", "Train a model on images; with no arguments, the main job: HetConv ResNet-20 (P = 4) on Fashion-MNIST.");
        foreach (var option in o.All) command.Options.Add(option);
        command.SetAction(result =>
        {
            ThreadsOption.Apply(result, o.Threads);
            return Library(() => result.GetValue(o.Resume) is { } run ? Resume(result, o, run) : Start(result, o));
        });
        return command;
    }

    private static int Start(ParseResult result, TrainOptions o)
    {
        var options = o.Read(result);
        var kind = DataSetLoading.Kind(result.GetValue(o.DataSet)!, options.DataDirectory);
        options = options with { DataSet = DataSets.Name(kind), ImageSize = kind == DataSetKind.ImageFolder ? result.GetValue(o.ImageSize) : null };
        options.Validate();
        Trainer.ParseDevice(options.Device);
        ModelOptions.Entry(options.Model);
        var convOptions = ModelOptions.Resolve(options.Model, options.Conv, options.Part, options.Groups, options.SqueezeExcitation);
        string outDirectory = HetConv.Files.OutputDirectory.Check(result.GetValue(o.Out) ?? RunDirectory.DefaultPath(options, DateTime.Now));
        if (RunDirectory.HoldsRun(outDirectory))
            throw new RunDirectoryException(outDirectory, "already holds a run.", inUse: true);

        var folder = options.FolderSettings(result.GetValue(o.Workers));
        var train = DataSetLoading.Open(kind, options.DataDirectory, DataSplit.Train, folder);
        var test = DataSetLoading.Open(kind, options.DataDirectory, DataSplit.Test, folder);
        // Settings only the model can check (e.g. a part that does not divide a layer's channels).
        ModelOptions.Build(options.Model, convOptions, train.ClassCount, train.Channels).Dispose();
        int trainImages = Math.Min(train.Count, options.TrainLimit ?? int.MaxValue);
        int testImages = Math.Min(test.Count, options.TestLimit ?? int.MaxValue);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training {options.Model} {Trainer.ConvDescription(options)} on {options.DataSet} ({trainImages} training / {testImages} test images, " +
            $"{train.Channels}x{train.Height}x{train.Width}, {train.ClassCount} classes), {options.Epochs} epochs; outputs in {Path.GetFullPath(outDirectory)}"));
        DataSetLoading.WarnSkipped(train, test);
        return Run(outDirectory, observer => new Trainer(ModelFactories.Zoo, observer).Train(options, train, test, outDirectory, CtrlC.Token()));
    }

    private static int Resume(ParseResult result, TrainOptions o, string path)
    {
        if (o.All.FirstOrDefault(option => !o.Resumable.Contains(option) && Given(result, option)) is { } fixedOption)
            throw new CliUsageException(
                $"{fixedOption.Name} cannot change when resuming: it defines the run (see its config.json); only {string.Join(", ", o.Resumable.Select(r => r.Name))} can.");
        string runDirectory = RunDirectory.ForResume(path);
        var changes = new ResumeChanges(
            Given(result, o.Epochs) ? result.GetValue(o.Epochs) : null,
            Given(result, o.Data) ? result.GetValue(o.Data) : null,
            Given(result, o.Device) ? result.GetValue(o.Device) : null,
            result.GetValue(o.Threads));
        var options = Trainer.OptionsOf(runDirectory);
        string dataDirectory = changes.DataDirectory ?? options.DataDirectory;
        if (changes.Device is { } device) Trainer.ParseDevice(device);
        var kind = DataSets.Parse(options.DataSet);
        var folder = options.FolderSettings(result.GetValue(o.Workers));
        var train = DataSetLoading.Open(kind, dataDirectory, DataSplit.Train, folder);
        var test = DataSetLoading.Open(kind, dataDirectory, DataSplit.Test, folder);
        DataSetLoading.WarnSkipped(train, test);
        Console.Out.WriteLine($"Resuming {options.Model} {Trainer.ConvDescription(options)} on {options.DataSet} in {Path.GetFullPath(runDirectory)}");
        return Run(runDirectory, observer => new Trainer(ModelFactories.Zoo, observer).Resume(runDirectory, train, test, changes, CtrlC.Token()));
    }

    private static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    private static int Run(string runDirectory, Func<ITrainingObserver, TrainingSummary> training)
    {
        try
        {
            var summary = ConsoleTrainingView.Show(training);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Done: best test accuracy {100 * summary.BestTestAccuracy:F2}% (epoch {summary.BestEpoch}), final {100 * summary.FinalTestAccuracy:F2}%, " +
                $"{summary.TotalSeconds / 60:F1} min, {summary.ImagesPerSecond:F0} images/s."));
            string[] outputs = [Trainer.SummaryFile, Trainer.MetricsFile, Trainer.LossPlot, Trainer.AccuracyPlot, Trainer.LastCheckpoint, Trainer.BestCheckpoint, Trainer.ConfigFile,
                .. summary.SkippedImages > 0 ? [Trainer.SkippedImagesFile] : Array.Empty<string>()];
            if (summary.SkippedImages > 0)
                Console.Out.WriteLine($"Skipped {summary.SkippedImages} unreadable image file(s), listed in {Trainer.SkippedImagesFile}.");
            Console.Out.WriteLine($"Outputs in {summary.RunDirectory}: {string.Join(", ", outputs)}");
            if (!PlotFonts.EnsureRegistered())
                Console.Error.WriteLine($"warning: {PlotFonts.DejaVuSansPath} is missing, so the plots have no text; install it with: {PlotFonts.InstallHint}");
            return 0;
        }
        catch (NonFiniteLossException e)
        {
            Console.Error.WriteLine($"error: {e.Message} Try a lower --lr. {LastGood(runDirectory)}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"Stopped. {LastGood(runDirectory)}");
            return 130;
        }
        catch (IOException e) when (e is not RunDirectoryException)
        {
            throw new CliUsageException($"{e.Message} {LastGood(runDirectory)}", e);
        }
    }

    /// <summary>What is on disk after a stop, and how to go on from there.</summary>
    private static string LastGood(string runDirectory)
    {
        string last = Path.Combine(runDirectory, Trainer.LastCheckpoint);
        if (!File.Exists(last))
            return $"No epoch had finished, so there is no checkpoint to resume from: delete {runDirectory} and run the command again.";
        return $"The last good checkpoint (epoch {Checkpoint.ReadState(last).EpochsDone}) is kept in {last}; continue with: hetconv train --resume {runDirectory}";
    }

    /// <summary>The library's refusals (bad options, data, files, run directories) as one-line usage errors.</summary>
    private static int Library(Func<int> action)
    {
        try
        {
            // Bad option values; data and file faults are reported by the top-level handler (HetConvCli).
            return CliUsageException.Wrap(action);
        }
        catch (RunDirectoryException e) when (e.InUse)
        {
            throw new CliUsageException($"{e.Message} Continue it with --resume {e.Directory}, or choose another --out.", e);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
