using System.Globalization;
using HetConv.Data;
using HetConv.Files;

namespace HetConv.Training;

/// <summary>What to evaluate: a checkpoint, on which data, how, and where the results go.</summary>
public sealed record EvaluationRequest
{
    public required string Checkpoint { get; init; }

    /// <summary>The data directory (null: the one the model was trained on).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>A data set name or "auto" (null: the training run's, or auto when another directory is given).</summary>
    public string? DataSet { get; init; }

    public DataSplit Split { get; init; } = DataSplit.Test;

    /// <summary>Evaluate only the first this many images (all when null).</summary>
    public int? Limit { get; init; }

    public const int DefaultBatchSize = 256;
    public int BatchSize { get; init; } = DefaultBatchSize;
    public string Device { get; init; } = "cpu";

    /// <summary>Image folders: what to do with an image that cannot be decoded (null: as the training run did).</summary>
    public BadImagePolicy? BadImages { get; init; }

    /// <summary>Where <c>eval.json</c> and <c>confusion.png</c> go (null: the checkpoint's directory).</summary>
    public string? OutDirectory { get; init; }

    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentException($"the batch size must be >= 1; got {BatchSize}.");
        if (Limit is < 1) throw new ArgumentException($"the image limit must be >= 1; got {Limit}.");
    }
}

/// <summary>
/// Evaluates a checkpoint: accuracy, loss, per-class accuracy, confusion matrix and latency per image, written to
/// <see cref="ResultFile"/> and <see cref="ConfusionPlot"/>. Every check that can fail (options, output directory,
/// checkpoint, data, their match) runs before the model does; the files are written whole or not at all.
/// </summary>
public static class Evaluator
{
    public const string ConfusionPlot = "confusion.png";
    public const string ResultFile = "eval.json";

    public static EvaluationReport Run(EvaluationRequest request, ModelFactory? factory = null)
    {
        request.Validate();
        var device = Trainer.ParseDevice(request.Device);
        var state = Checkpoint.ReadState(request.Checkpoint);
        string outDirectory = OutputDirectory.Check(request.OutDirectory ?? Path.GetDirectoryName(Path.GetFullPath(request.Checkpoint))!);
        string directory = request.DataDirectory ?? state.Options.DataDirectory;
        var kind = DataSets.Resolve(request.DataSet ?? (request.DataDirectory is null ? state.Options.DataSet : "auto"), directory);
        var folder = (state.Options with { BadImages = request.BadImages ?? state.Options.BadImages }).FolderSettings();
        var images = DataSets.Open(kind, directory, request.Split, folder);
        if (request.Limit is { } limit) images = images.Take(limit);
        state.EnsureFits(images, request.Checkpoint);

        using var model = CheckpointModel.Load(request.Checkpoint, state, factory ?? ModelFactories.Zoo, device);
        using var loader = images.Loader(request.BatchSize, state.Normalization, augment: false);
        var result = Evaluation.Run(model, loader, device, images.ClassCount);
        double batch1 = LatencyProbe.SecondsPerImage(model, images, state.Normalization, device);

        int classes = images.ClassCount;
        string split = request.Split.ToString().ToLowerInvariant();
        var report = new EvaluationReport
        {
            Checkpoint = Path.GetFullPath(request.Checkpoint),
            DataSet = images.Name,
            Split = split,
            Images = result.Images,
            Accuracy = result.Accuracy,
            Loss = result.Loss,
            ClassAccuracy = images.ClassNames.Zip(result.ClassAccuracy).ToDictionary(p => p.First, p => p.Second),
            Confusion = Enumerable.Range(0, classes).Select(t => Enumerable.Range(0, classes).Select(p => result.Confusion[t, p]).ToArray()).ToArray(),
            BatchSize = loader.BatchSize,
            SecondsPerImage = result.SecondsPerImage,
            SecondsPerImageBatch1 = batch1,
            ModelDescription = $"{state.Options.Model} {Trainer.ConvDescription(state.Options)}",
            ResultPath = Path.Combine(outDirectory, ResultFile),
            PlotPath = Path.Combine(outDirectory, ConfusionPlot),
        };
        string json = report.ToJson();   // before any write: a report that cannot be written leaves no file
        Directory.CreateDirectory(outDirectory);
        string title = string.Create(CultureInfo.InvariantCulture, $"{report.ModelDescription} on {images.Name} ({split}): {100 * result.Accuracy:F2}%");
        TrainingPlots.SaveConfusion(report.PlotPath, result.Confusion, images.ClassNames, title);
        AtomicFile.WriteText(report.ResultPath, json);
        return report;
    }
}
