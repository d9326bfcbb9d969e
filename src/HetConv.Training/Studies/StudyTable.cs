using System.Globalization;
using System.Text;

namespace HetConv.Studies;

/// <summary>The study's table in the paper's form (accuracy, FLOPs, parameters and their reductions) with the measured columns beside it.</summary>
public static class StudyTable
{
    public const string CsvHeader =
        "variant,part,seeds,accuracy_mean,accuracy_sd,flops,flops_reduced,params,params_reduced,epochs,train_minutes,train_images_per_second," +
        "latency_batch1_ms,latency_batch64_ms,train_speedup,inference_speedup_batch1,inference_speedup_batch64,minutes_to_p1_accuracy";

    public static readonly string[] MarkdownHeader =
    [
        "Variant", "Acc. % (mean ± sd)", "FLOPs (M)", "FLOPs reduced", "Params (K)", "Params reduced", "Epochs", "Train min",
        "Train img/s", "Latency b1 (ms)", "Latency b64 (ms)", "Train speedup", "Infer. speedup b1", "Infer. speedup b64", "Min to P1 acc.",
    ];

    /// <summary>One row's cells as the Markdown and HTML tables show them.</summary>
    public static string[] Cells(StudyRow r) =>
    [
        r.Variant,
        Invariant($"{100 * r.AccuracyMean:F2} ± {(double.IsNaN(r.AccuracySd) ? "n/a" : (100 * r.AccuracySd).ToString("F2", CultureInfo.InvariantCulture))} (n={r.Accuracies.Count})"),
        Invariant($"{r.Flops / 1e6:F2}"), Invariant($"{100 * r.FlopsReduced:F1}%"),
        Invariant($"{r.Params / 1e3:F1}"), Invariant($"{100 * r.ParamsReduced:F1}%"),
        Invariant($"{r.Epochs}"), Invariant($"{r.TrainMinutes:F2}"), Invariant($"{r.TrainImagesPerSecond:F0}"),
        Invariant($"{r.LatencyBatch1Ms:F2}"), Invariant($"{r.LatencyBatch64Ms:F1}"),
        Ratio(r.TrainSpeedup), Ratio(r.InferenceSpeedupBatch1), Ratio(r.InferenceSpeedupBatch64),
        r.MinutesToP1Accuracy is { } m ? Invariant($"{m:F2}") : r.TrainSpeedup is null ? "n/a" : "not reached",
    ];

    public static string Markdown(IReadOnlyList<StudyRow> rows)
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", MarkdownHeader).Append(" |\n");
        text.Append('|').AppendJoin("", MarkdownHeader.Select((_, i) => i == 0 ? "---|" : "---:|")).Append('\n');
        foreach (var row in rows) text.Append("| ").AppendJoin(" | ", Cells(row)).Append(" |\n");
        return text.ToString();
    }

    public static string Csv(IReadOnlyList<StudyRow> rows)
    {
        var text = new StringBuilder(CsvHeader).Append('\n');
        foreach (var r in rows)
            text.AppendJoin(',', new[]
            {
                r.Variant, r.Part?.ToString(CultureInfo.InvariantCulture) ?? "", Invariant($"{r.Accuracies.Count}"),
                Number(r.AccuracyMean), Number(r.AccuracySd), Invariant($"{r.Flops}"), Number(r.FlopsReduced), Invariant($"{r.Params}"),
                Number(r.ParamsReduced), Invariant($"{r.Epochs}"), Number(r.TrainMinutes), Number(r.TrainImagesPerSecond),
                Number(r.LatencyBatch1Ms), Number(r.LatencyBatch64Ms), Number(r.TrainSpeedup), Number(r.InferenceSpeedupBatch1),
                Number(r.InferenceSpeedupBatch64), Number(r.MinutesToP1Accuracy),
            }).Append('\n');
        return text.ToString();
    }

    // A value that does not exist (one seed's spread, a speedup without P1) is an empty field.
    private static string Number(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "";

    private static string Ratio(double? value) => value is { } v ? Invariant($"{v:F2}x") : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
