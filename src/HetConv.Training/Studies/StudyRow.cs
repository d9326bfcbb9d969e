namespace HetConv.Studies;

/// <summary>A point of a variant's accuracy-against-time curve: the seeds' mean at the end of an epoch.</summary>
public sealed record CurvePoint(int Epoch, double Minutes, double Accuracy);

/// <summary>
/// One variant of a study, over its seeds: the final test accuracy's mean and sample standard deviation (NaN for
/// one seed), its cost (multiply-accumulates per image and parameters, from the profiler through the runs'
/// summaries) against the standard model's, and what was measured: training images per second and minutes,
/// inference latency, and the speedups over P1 (null when P1 is not in the study).
/// </summary>
public sealed record StudyRow
{
    public required string Variant { get; init; }
    public required int? Part { get; init; }
    public required IReadOnlyList<double> Accuracies { get; init; }
    public double AccuracyMean => Accuracies.Average();
    public double AccuracySd => Accuracies.Count < 2 ? double.NaN
        : Math.Sqrt(Accuracies.Sum(a => (a - AccuracyMean) * (a - AccuracyMean)) / (Accuracies.Count - 1));
    public required long Flops { get; init; }
    public required double FlopsReduced { get; init; }
    public required long Params { get; init; }
    public required double ParamsReduced { get; init; }
    public required int Epochs { get; init; }
    public required double TrainMinutes { get; init; }
    public required double TrainImagesPerSecond { get; init; }
    public required double LatencyBatch1Ms { get; init; }
    public required double LatencyBatch64Ms { get; init; }
    public double? TrainSpeedup { get; init; }
    public double? InferenceSpeedupBatch1 { get; init; }
    public double? InferenceSpeedupBatch64 { get; init; }

    /// <summary>Minutes of training until the seeds' mean accuracy first reached P1's final mean (null: never, or no P1).</summary>
    public double? MinutesToP1Accuracy { get; init; }
    public required IReadOnlyList<CurvePoint> Curve { get; init; }
}
