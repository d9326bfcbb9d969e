using System.Text.Json;
using HetConv.Data;
using HetConv.Files;
using HetConv.Training;

namespace HetConv.Studies;

/// <summary>A variant's measured epoch time and the epochs that fit the budget at that pace.</summary>
public sealed record BudgetPlan(string Variant, double TrainImagesPerSecond, double TestSecondsPerImage, double SecondsPerEpoch, int Epochs);

/// <summary>
/// Fits each variant's schedule to an equal wall-clock budget: a short probe run (two epochs of a few batches,
/// timed on the second, after the first has warmed up the allocator and settled HetConv's execution choices)
/// gives the training images per second and the test pass's seconds per image; the epochs that fit are
/// floor(budget / seconds per full epoch), at least one. The plan is written to <see cref="PlanFile"/> once and
/// reused, so a resumed study keeps the schedules its runs started with.
/// </summary>
public static class StudyBudget
{
    public const string PlanFile = "budget.json";
    private const int ProbeBatches = 16, ProbeTestBatches = 4;

    public static int EpochsThatFit(double budgetSeconds, double secondsPerEpoch) =>
        Math.Max(1, (int)Math.Floor(budgetSeconds / secondsPerEpoch));

    public static Dictionary<string, BudgetPlan> Plan(StudyOptions study, string dataSet, ImageDataSet train, ImageDataSet test, IStudyObserver observer)
    {
        string path = Path.Combine(study.OutDirectory, PlanFile);
        var plans = File.Exists(path)
            ? JsonSerializer.Deserialize<List<BudgetPlan>>(File.ReadAllText(path), TrainingOptions.Json)!.ToDictionary(p => p.Variant)
            : new Dictionary<string, BudgetPlan>();
        int trainImages = Math.Min(train.Count, study.TrainLimit ?? int.MaxValue);
        int testImages = Math.Min(test.Count, study.TestLimit ?? int.MaxValue);
        foreach (string variant in study.Variants.Select(v => StudyVariant.Parse(v).Name).Where(v => !plans.ContainsKey(v)))
        {
            observer.Step($"timing {variant} for the {study.BudgetMinutes} min budget");
            var (imagesPerSecond, testSeconds) = Probe(study, variant, dataSet, train, test);
            double epochSeconds = trainImages / imagesPerSecond + testImages * testSeconds;
            plans[variant] = new BudgetPlan(variant, imagesPerSecond, testSeconds, epochSeconds,
                EpochsThatFit(study.BudgetMinutes!.Value * 60, epochSeconds));
            AtomicFile.WriteText(path, JsonSerializer.Serialize(plans.Values.ToList(), TrainingOptions.Json));
        }
        return plans;
    }

    private static (double ImagesPerSecond, double TestSecondsPerImage) Probe(StudyOptions study, string variant, string dataSet,
        ImageDataSet train, ImageDataSet test)
    {
        string directory = Path.Combine(study.OutDirectory, "probe", variant);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        var options = study.RunOptions(variant, 1, dataSet, epochs: 2) with
        {
            TrainLimit = Math.Min(train.Count, Math.Min(study.TrainLimit ?? int.MaxValue, ProbeBatches * study.BatchSize)),
            TestLimit = Math.Min(test.Count, Math.Min(study.TestLimit ?? int.MaxValue, ProbeTestBatches * study.BatchSize)),
        };
        new Trainer(ModelFactories.Zoo).Train(options, train, test, directory);
        var second = MetricsCsv.Read(Path.Combine(directory, Trainer.MetricsFile))[^1];
        double trainSeconds = options.TrainLimit!.Value / second.ImagesPerSecond;
        double testSeconds = Math.Max(0, second.Seconds - trainSeconds) / options.TestLimit!.Value;
        Directory.Delete(directory, recursive: true);
        if (!Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(directory)!).Any()) Directory.Delete(Path.GetDirectoryName(directory)!);
        return (second.ImagesPerSecond, testSeconds);
    }
}
