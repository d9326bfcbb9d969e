namespace HetConv.Training;

/// <summary>Where a trainer reports progress (a console view, a log, a test).</summary>
public interface ITrainingObserver
{
    /// <summary>Training is about to run epochs <paramref name="firstEpoch"/>..<paramref name="epochs"/>.</summary>
    void Starting(int firstEpoch, int epochs, int batchesPerEpoch) { }

    /// <summary>A training batch finished; the loss and accuracy are running averages over the epoch so far.</summary>
    void BatchDone(int epoch, int batch, int batchesPerEpoch, double loss, double accuracy, double imagesPerSecond) { }

    /// <summary>The test pass of the epoch is running.</summary>
    void Evaluating(int epoch) { }

    /// <summary>An epoch finished and its checkpoint is on disk.</summary>
    void EpochDone(EpochMetrics metrics, int epochs) { }
}
