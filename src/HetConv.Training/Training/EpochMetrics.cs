namespace HetConv.Training;

/// <summary>
/// One finished epoch: training loss and accuracy (running averages over the epoch, with augmentation), test
/// loss and accuracy (fractions in 0..1), the learning rate at its last batch, time, throughput and the
/// process's resident memory at its end.
/// </summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double TrainAccuracy,
    double TestLoss,
    double TestAccuracy,
    double Seconds,
    double ImagesPerSecond,
    double ResidentMiB);
