namespace HetConv.Training;

/// <summary>The loss became NaN or infinite; training stopped before the step that would have spread it.</summary>
public sealed class NonFiniteLossException(int epoch, int batch, double learningRate, double loss)
    : Exception($"the loss became {loss} at epoch {epoch}, batch {batch} (learning rate {learningRate:G4}); training stopped.")
{
    public int Epoch { get; } = epoch;
    public int Batch { get; } = batch;
}
