using HetConv.Data;

namespace HetConv.Training;

/// <summary>
/// What a checkpoint holds besides the tensors: the run's options, how far it got, the random generators'
/// states, how the data was normalised and shaped, and the metrics so far.
/// </summary>
public sealed record CheckpointState
{
    public required TrainingOptions Options { get; init; }

    /// <summary>Epochs finished; the next epoch to run is this plus one.</summary>
    public required int EpochsDone { get; init; }

    /// <summary>The data order and augmentation generator (<see cref="SeededRandom.State"/>).</summary>
    public required ulong[] DataRandomState { get; init; }

    /// <summary>libtorch's CPU generator (dropout and other random layers).</summary>
    public required byte[] TorchRandomState { get; init; }

    /// <summary>
    /// The HetConv strategies chosen by measuring (<see cref="HetConv.Layers.Execution.AutoExecution.Choices"/>, by
    /// name): a resumed run adopts them, since another kernel sums in another order and the runs would drift apart.
    /// </summary>
    public Dictionary<string, string> ExecutionChoices { get; init; } = new();

    public required ChannelNormalization Normalization { get; init; }
    public required int InChannels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required string[] ClassNames { get; init; }
    public required List<EpochMetrics> History { get; init; }

    /// <summary>
    /// Throws a <see cref="DataFormatException"/> naming <paramref name="checkpointPath"/> unless
    /// <paramref name="data"/> has the image shape and classes the checkpoint was trained on.
    /// </summary>
    public void EnsureFits(IImageSource data, string checkpointPath)
    {
        if (data.Channels != InChannels || data.Height != Height || data.Width != Width || data.ClassCount != ClassNames.Length)
            throw new DataFormatException(checkpointPath,
                $"was trained on {InChannels}x{Height}x{Width} images in {ClassNames.Length} classes; " +
                $"the data given ({data.Name}) is {data.Channels}x{data.Height}x{data.Width} in {data.ClassCount}.");
    }
}
