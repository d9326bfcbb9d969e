using System.CommandLine;
using System.Globalization;
using HetConv.Studies;
using HetConv.Training;

namespace HetConv.Cli.Commands;

/// <summary>
/// <c>hetconv study</c>: the paper's experiment on one model, every variant and seed trained under one schedule
/// (equal epochs or an equal time budget), then a table, plots and an HTML report (<see cref="Study"/>).
/// Run again, it skips finished runs and resumes an interrupted one.
/// </summary>
public static class StudyCommand
{
    public static Command Create()
    {
        var defaults = new StudyOptions { OutDirectory = "" };
        var model = new Option<string>("--model", "-m") { Description = "zoo model (resnet20, resnet56, vgg16-cifar, ...)", DefaultValueFactory = _ => defaults.Model };
        var variants = new Option<string>("--variants") { Description = "comma-separated variants in the paper's names: P1, P2, P4, P8, PC, " +
            "GWC4_PWC, DWC_PWC, each optionally with _SE", DefaultValueFactory = _ => string.Join(",", defaults.Variants) };
        var data = new Option<string>("--data") { Description = "data directory (as for hetconv train)", DefaultValueFactory = _ => defaults.DataDirectory };
        var dataSet = new Option<string>("--dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100 or auto", DefaultValueFactory = _ => defaults.DataSet };
        var epochs = new Option<int>("--epochs", "-e") { Description = "epochs of every run", DefaultValueFactory = _ => defaults.Epochs };
        var budget = new Option<double?>("--budget-minutes") { Description = "instead of --epochs: wall-clock minutes per run, each variant's epochs fitted to its measured pace" };
        var seeds = new Option<int>("--seeds") { Description = "seeds 1..S for every variant", DefaultValueFactory = _ => defaults.Seeds };
        var trainLimit = new Option<int?>("--train-limit") { Description = "use only the first N training images" };
        var testLimit = new Option<int?>("--test-limit") { Description = "use only the first N test images" };
        var batch = new Option<int>("--batch-size", "-b") { Description = "images per batch", DefaultValueFactory = _ => defaults.BatchSize };
        var train = new TrainOptions();   // the optimizer's options, as hetconv train has them
        var device = DeviceOption.Create();
        var threads = ThreadsOption.Create();
        var output = new Option<string>("--out", "-o") { Description = "study directory: a run directory per variant and seed, the table, plots and report", Required = true };
        var command = new Command("study", "Train every variant with every seed under one schedule; table, plots and HTML report of accuracy against FLOPs and time.")
        {
            model, variants, data, dataSet, epochs, budget, seeds, trainLimit, testLimit, batch, device, threads, output,
        };
        foreach (var option in train.OptimizerOptions) command.Options.Add(option);
        command.SetAction(result =>
        {
            ThreadsOption.Apply(result, threads);
            if (result.GetResult(epochs) is { Implicit: false } && result.GetValue(budget) is not null)
                throw new CliUsageException("give --epochs or --budget-minutes, not both.");
            return Run(() => defaults with
            {
                Model = result.GetValue(model)!, Variants = result.GetValue(variants)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                DataDirectory = result.GetValue(data)!, DataSet = result.GetValue(dataSet)!, Epochs = result.GetValue(epochs),
                BudgetMinutes = result.GetValue(budget), Seeds = result.GetValue(seeds), TrainLimit = result.GetValue(trainLimit),
                TestLimit = result.GetValue(testLimit), BatchSize = result.GetValue(batch), Device = result.GetValue(device)!,
                Schedule = train.ReadSchedule(result), Momentum = result.GetValue(train.Momentum), Nesterov = result.GetValue(train.Nesterov),
                WeightDecay = result.GetValue(train.WeightDecay),
                Threads = result.GetValue(threads), OutDirectory = result.GetValue(output)!, Command = "hetconv " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            });
        });
        return command;
    }

    private static int Run(Func<StudyOptions> read)
    {
        try
        {
            var study = ConsoleTrainingView.Show(view => CliUsageException.Wrap(() => Study.Run(read(), new StudyView(view), CtrlC.Token())));
            Console.Out.WriteLine(StudyTable.Markdown(study.Rows));
            Console.Out.WriteLine($"Wrote {string.Join(", ", study.Files.Select(Path.GetFileName))} in {study.OutDirectory}");
            return 0;
        }
        catch (NonFiniteLossException e)
        {
            Console.Error.WriteLine($"error: {e.Message} Its last finished epoch is kept; run the same command again to resume the study.");
            return HetConvCli.UsageError;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Stopped. Finished epochs are kept; run the same command again to resume the study.");
            return 130;
        }
    }

    /// <summary>A line per run and step; the training view shows the epochs.</summary>
    private sealed class StudyView(ITrainingObserver epochs) : IStudyObserver
    {
        public void RunStarting(StudyRunKey run, int index, int count, int epochsDone, int total) => Console.Out.WriteLine(
            string.Create(CultureInfo.InvariantCulture, $"[{index}/{count}] {run}: ") + (epochsDone >= total ? $"done already ({total} epochs)"
                : epochsDone > 0 ? $"resuming after epoch {epochsDone} of {total}" : $"training {total} epochs") + $" in {run.Directory}");

        public void Step(string description) => Console.Out.WriteLine(description);
        public void Starting(int firstEpoch, int epochsToRun, int batchesPerEpoch) => epochs.Starting(firstEpoch, epochsToRun, batchesPerEpoch);
        public void BatchDone(int epoch, int batch, int batchesPerEpoch, double loss, double accuracy, double imagesPerSecond) =>
            epochs.BatchDone(epoch, batch, batchesPerEpoch, loss, accuracy, imagesPerSecond);
        public void Evaluating(int epoch) => epochs.Evaluating(epoch);
        public void EpochDone(EpochMetrics metrics, int epochsToRun) => epochs.EpochDone(metrics, epochsToRun);
    }
}
