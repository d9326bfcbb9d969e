using System.Globalization;
using HetConv.Data;
using HetConv.Files;
using HetConv.Models;
using HetConv.Profiling;
using HetConv.Training;

namespace HetConv.Studies;

/// <summary>What a study wrote: its rows and the files (table.md, table.csv, the plots, report.html).</summary>
public sealed record StudyResult(string OutDirectory, IReadOnlyList<StudyRow> Rows, IReadOnlyList<string> Files);

/// <summary>Turns a study's finished runs into its rows (<see cref="StudyRow"/>), then writes the table, the plots and the report.</summary>
public static class StudyOutputs
{
    public const string TableMarkdown = "table.md", TableCsv = "table.csv", Report = "report.html";
    private const string Reference = "P1";

    public static StudyResult Write(StudyOptions options, string dataSet, ImageDataSet train,
        IReadOnlyList<(StudyRunKey Key, TrainingSummary Summary)> runs, Dictionary<string, BudgetPlan>? plans, IStudyObserver observer)
    {
        observer.Step("measuring inference latency at batch 1 and 64, the variants side by side");
        var variants = runs.Select(r => r.Key.Variant).Distinct().ToList();
        var latency = StudyLatency.Measure(
            variants.Select(v => (v, Path.Combine(runs.First(r => r.Key.Variant == v).Key.Directory, Trainer.LastCheckpoint))).ToList(),
            options.Device);
        var (flops, parameters) = StandardCost(options.Model, train);
        var rows = Rows(runs, latency, flops, parameters);

        observer.Step("writing the table, plots and report");
        string title = $"{options.Model} on {dataSet}, " + (options.BudgetMinutes is { } budget
            ? string.Create(CultureInfo.InvariantCulture, $"{budget:0.##} min per run")
            : $"{options.Epochs} epochs");
        string dir = options.OutDirectory;
        AtomicFile.WriteText(Path.Combine(dir, TableMarkdown), StudyTable.Markdown(rows));
        AtomicFile.WriteText(Path.Combine(dir, TableCsv), StudyTable.Csv(rows));
        StudyPlots.SaveAll(dir, rows, title);
        AtomicFile.WriteText(Path.Combine(dir, Report), StudyReport.Html(options, dataSet, title, rows, runs, plans));
        var files = new[] { TableMarkdown, TableCsv }.Concat(StudyPlots.Names.SelectMany(n => new[] { n + ".png", n + ".svg" })).Append(Report)
            .Select(f => Path.Combine(dir, f)).ToList();
        return new StudyResult(dir, rows, files);
    }

    /// <summary>The rows, in the order the variants were given, with P1 (when there) as the reference of the speedups.</summary>
    public static List<StudyRow> Rows(IReadOnlyList<(StudyRunKey Key, TrainingSummary Summary)> runs,
        IReadOnlyDictionary<(string Variant, int Batch), double> latency, long standardFlops, long standardParams)
    {
        var rows = runs.GroupBy(r => r.Key.Variant).Select(g => Row(g.Key, g.ToList(), latency, standardFlops, standardParams)).ToList();
        if (rows.FirstOrDefault(r => r.Variant == Reference) is not { } p1) return rows;
        return rows.Select(r => r with
        {
            TrainSpeedup = r.TrainImagesPerSecond / p1.TrainImagesPerSecond,
            InferenceSpeedupBatch1 = p1.LatencyBatch1Ms / r.LatencyBatch1Ms,
            InferenceSpeedupBatch64 = p1.LatencyBatch64Ms / r.LatencyBatch64Ms,
            MinutesToP1Accuracy = r.Curve.FirstOrDefault(c => c.Accuracy >= p1.AccuracyMean)?.Minutes,
        }).ToList();
    }

    private static StudyRow Row(string variant, List<(StudyRunKey Key, TrainingSummary Summary)> seeds,
        IReadOnlyDictionary<(string Variant, int Batch), double> latency, long standardFlops, long standardParams)
    {
        var summaries = seeds.Select(s => s.Summary).ToList();
        var histories = seeds.Select(s => MetricsCsv.Read(Path.Combine(s.Key.Directory, Trainer.MetricsFile))).ToList();
        int epochs = histories.Min(h => h.Count);
        var curve = Enumerable.Range(0, epochs).Select(e => new CurvePoint(e + 1,
            histories.Average(h => h.Take(e + 1).Sum(m => m.Seconds)) / 60, histories.Average(h => h[e].TestAccuracy))).ToList();
        var first = summaries[0];
        return new StudyRow
        {
            Variant = variant,
            Part = StudyVariant.Parse(variant).NumericPart,
            Accuracies = summaries.Select(s => s.FinalTestAccuracy).ToList(),
            Flops = first.Flops,
            FlopsReduced = 1 - (double)first.Flops / standardFlops,
            Params = first.Params,
            ParamsReduced = 1 - (double)first.Params / standardParams,
            Epochs = first.Epochs,
            TrainMinutes = summaries.Average(s => s.TotalSeconds) / 60,
            TrainImagesPerSecond = summaries.Average(s => s.ImagesPerSecond),
            LatencyBatch1Ms = latency[(variant, 1)],
            LatencyBatch64Ms = latency[(variant, 64)],
            Curve = curve,
        };
    }

    /// <summary>The standard model's (P1's) multiply-accumulates per image and parameters, the reference of the reductions.</summary>
    public static (long Flops, long Params) StandardCost(string model, ImageDataSet train)
    {
        using var standard = ModelZoo.Create(model, ConvOptions.Standard, train.ClassCount, train.Channels);
        var profile = ModelProfiler.Profile(standard, new long[] { train.Channels, train.Height, train.Width }, FlopConvention.Macs);
        return (profile.FlopCount, profile.Params);
    }
}
