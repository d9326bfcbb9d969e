namespace HetConv.Training;

/// <summary>
/// A run's result, written as <c>summary.json</c>: what was trained, its cost (FLOPs as multiply-accumulates of
/// convolutions and linear layers for one image, the profiler's <c>macs</c> convention; learnable parameters),
/// accuracies as fractions in 0..1, and speed.
/// </summary>
public sealed record TrainingSummary
{
    public required string Model { get; init; }
    public required string Conv { get; init; }
    public required string Part { get; init; }
    public required string DataSet { get; init; }
    public required long Flops { get; init; }
    public required long Params { get; init; }
    public required double BestTestAccuracy { get; init; }
    public required int BestEpoch { get; init; }
    public required double FinalTestAccuracy { get; init; }
    public required double FinalTestLoss { get; init; }
    public required int Epochs { get; init; }
    public required int EpochsPlanned { get; init; }
    public required double SecondsPerEpoch { get; init; }
    public required double ImagesPerSecond { get; init; }
    public required double TotalSeconds { get; init; }
    public required int TrainImages { get; init; }
    public required int TestImages { get; init; }

    /// <summary>Image files left out as unreadable (listed in skipped-images.txt).</summary>
    public int SkippedImages { get; init; }
    public required string Device { get; init; }
    public required int Threads { get; init; }
    public required string RunDirectory { get; init; }
}
