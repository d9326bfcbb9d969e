using System.Text.Json;
using System.Text.Json.Serialization;
using HetConv.Files;

namespace HetConv.Training;

/// <summary>
/// What <c>hetconv eval</c> found, written as <c>eval.json</c>: accuracy and loss (fractions in 0..1, mean loss),
/// accuracy per class, the confusion matrix [true][predicted], and the mean latency per image at the batch size
/// used and at batch 1. A number that is not finite is written as <c>null</c>: the accuracy of a class with no
/// images in the set evaluated (0/0), a loss that overflowed.
/// </summary>
public sealed record EvaluationReport
{
    public required string Checkpoint { get; init; }
    public required string DataSet { get; init; }
    public required string Split { get; init; }
    public required int Images { get; init; }
    public required double Accuracy { get; init; }
    public required double Loss { get; init; }
    public required Dictionary<string, double> ClassAccuracy { get; init; }
    public required long[][] Confusion { get; init; }
    public required int BatchSize { get; init; }
    public required double SecondsPerImage { get; init; }
    public required double SecondsPerImageBatch1 { get; init; }

    /// <summary>The model in words (e.g. "resnet20 P4"), for titles.</summary>
    [JsonIgnore] public string ModelDescription { get; init; } = "";

    /// <summary>Where the report and the confusion plot were written.</summary>
    [JsonIgnore] public string? ResultPath { get; init; }
    [JsonIgnore] public string? PlotPath { get; init; }

    /// <summary><c>eval.json</c>, in the settings of every file a run writes (<see cref="TrainingOptions.Json"/>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, TrainingOptions.Json);
}
