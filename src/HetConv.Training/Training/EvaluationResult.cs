namespace HetConv.Training;

/// <summary>
/// A model's results on a labelled set: mean loss, accuracy (fraction), the confusion matrix [true, predicted],
/// and the time the forward passes took.
/// </summary>
public sealed record EvaluationResult(double Loss, double Accuracy, long[,] Confusion, int Images, double Seconds)
{
    /// <summary>Per class: the fraction of its images predicted as it (NaN for a class with no images).</summary>
    public double[] ClassAccuracy =>
        Enumerable.Range(0, Confusion.GetLength(0)).Select(t =>
        {
            long total = 0;
            for (int p = 0; p < Confusion.GetLength(1); p++) total += Confusion[t, p];
            return total == 0 ? double.NaN : (double)Confusion[t, t] / total;
        }).ToArray();

    /// <summary>Mean forward time per image at the batch size used.</summary>
    public double SecondsPerImage => Images == 0 ? double.NaN : Seconds / Images;
}
