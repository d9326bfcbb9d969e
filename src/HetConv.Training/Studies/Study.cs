using System.Text.Json;
using HetConv.Data;
using HetConv.Files;
using HetConv.Training;

namespace HetConv.Studies;

/// <summary>
/// The paper's experiment on the user's data: every variant trained with every seed under one schedule, then
/// compared in a table, plots and a report (<see cref="StudyOutputs"/>). Each variant and seed is an ordinary
/// training run in <c>runs/VARIANT-seedS</c> under the study's directory, so a study run again skips the runs that
/// finished, resumes an interrupted one from its last checkpoint, and starts over one stopped before its first epoch.
/// </summary>
public static class Study
{
    public const string SettingsFile = "study.json";
    public const string RunsDirectory = "runs";

    public static StudyResult Run(StudyOptions options, IStudyObserver? observer = null, CancellationToken cancel = default)
    {
        observer ??= new SilentObserver();
        options.Validate();
        Trainer.ParseDevice(options.Device);
        options = options with { OutDirectory = OutputDirectory.Check(options.OutDirectory) };
        var kind = DataSets.Resolve(options.DataSet, options.DataDirectory);
        var train = DataSets.Load(kind, options.DataDirectory, DataSplit.Train);
        var test = DataSets.Load(kind, options.DataDirectory, DataSplit.Test);
        string dataSet = DataSets.Name(kind);
        // A part that does not fit a layer is refused here, before any run starts.
        foreach (string variant in options.Variants)
        {
            try
            {
                ModelFactories.Zoo(options.RunOptions(variant, 1, dataSet, 1), train.Channels, train.ClassCount).Dispose();
            }
            catch (ArgumentException e)
            {
                string why = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "");
                throw new ArgumentException($"{StudyVariant.Parse(variant).Name} cannot be built for {options.Model}: {why}", e);
            }
        }
        Directory.CreateDirectory(options.OutDirectory);
        KeepSettings(options, dataSet);

        var plans = options.BudgetMinutes is null ? null : StudyBudget.Plan(options, dataSet, train, test, observer);
        var keys = options.Variants.Select(v => StudyVariant.Parse(v).Name)
            .SelectMany(v => Enumerable.Range(1, options.Seeds).Select(s => new StudyRunKey(v, s, RunDirectoryOf(options, v, s))))
            .ToList();
        var summaries = new List<(StudyRunKey Key, TrainingSummary Summary)>();
        foreach (var (key, index) in keys.Select((k, i) => (k, i + 1)))
        {
            int epochs = plans?[key.Variant].Epochs ?? options.Epochs;
            var runOptions = options.RunOptions(key.Variant, key.Seed, dataSet, epochs);
            summaries.Add((key, TrainOne(runOptions, key, index, keys.Count, train, test, observer, cancel)));
        }
        return StudyOutputs.Write(options, dataSet, train, summaries, plans, observer);
    }

    public static string RunDirectoryOf(StudyOptions options, string variant, long seed) =>
        Path.Combine(options.OutDirectory, RunsDirectory, $"{variant}-seed{seed}");

    private static TrainingSummary TrainOne(TrainingOptions options, StudyRunKey key, int index, int count,
        ImageDataSet train, ImageDataSet test, IStudyObserver observer, CancellationToken cancel)
    {
        var trainer = new Trainer(ModelFactories.Zoo, observer);
        string last = Path.Combine(key.Directory, Trainer.LastCheckpoint);
        if (File.Exists(last))
        {
            int done = Checkpoint.ReadState(last).EpochsDone;
            observer.RunStarting(key, index, count, done, options.Epochs);
            if (done >= options.Epochs)
                return JsonSerializer.Deserialize<TrainingSummary>(File.ReadAllText(Path.Combine(key.Directory, Trainer.SummaryFile)), TrainingOptions.Json)!;
            return trainer.Resume(key.Directory, train, test, new ResumeChanges(Device: options.Device, Threads: options.Threads), cancel);
        }
        // Stopped before its first epoch ended: nothing worth keeping, and the directory is the study's own.
        if (RunDirectory.HoldsRun(key.Directory)) Directory.Delete(key.Directory, recursive: true);
        observer.RunStarting(key, index, count, 0, options.Epochs);
        return trainer.Train(options, train, test, key.Directory, cancel);
    }

    /// <summary>The settings that make the runs comparable: a study directory keeps the ones it was started with.</summary>
    private static void KeepSettings(StudyOptions options, string dataSet)
    {
        // null for hetconv train's default optimizer settings, else those settings as JSON.
        static string Optimizer(StudyOptions o) => JsonSerializer.Serialize(new { o.Schedule, o.Momentum, o.Nesterov, o.WeightDecay }, TrainingOptions.Json);
        string schedule = Optimizer(options), defaults = Optimizer(new StudyOptions { OutDirectory = "" });
        var settings = new StudySettings(options.Model, dataSet, options.BudgetMinutes is null ? options.Epochs : null, options.BudgetMinutes,
            options.TrainLimit, options.TestLimit, options.BatchSize, schedule == defaults ? null : schedule);
        string path = Path.Combine(options.OutDirectory, SettingsFile);
        if (File.Exists(path))
        {
            var kept = JsonSerializer.Deserialize<StudySettings>(File.ReadAllText(path), TrainingOptions.Json);
            if (kept != settings)
                throw new ArgumentException($"{options.OutDirectory} holds a study with other settings ({File.ReadAllText(path).ReplaceLineEndings(" ")}); " +
                    "run it with those, or choose another --out.");
            return;
        }
        AtomicFile.WriteText(path, JsonSerializer.Serialize(settings, TrainingOptions.Json));
    }

    private sealed record StudySettings(string Model, string DataSet, int? Epochs, double? BudgetMinutes, int? TrainLimit, int? TestLimit, int BatchSize,
        string? Schedule = null);

    private sealed class SilentObserver : IStudyObserver;
}
