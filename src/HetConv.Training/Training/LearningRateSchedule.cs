namespace HetConv.Training;

/// <summary>
/// A learning rate as a pure function of training progress, so a resumed run needs only the step count to
/// continue on the same curve.
/// </summary>
public sealed record LearningRateSchedule
{
    public ScheduleKind Kind { get; init; } = ScheduleKind.OneCycle;

    /// <summary>The base (step, multi-step, cosine) or peak (one-cycle) learning rate.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>The factor applied at each step or milestone.</summary>
    public double Gamma { get; init; } = 0.1;

    /// <summary>For <see cref="ScheduleKind.Step"/>: epochs between two decays.</summary>
    public int StepEpochs { get; init; } = 50;

    /// <summary>For <see cref="ScheduleKind.MultiStep"/>: the epochs (counted from 0) at which the rate decays.</summary>
    public int[] Milestones { get; init; } = { 82, 123 };

    /// <summary>For <see cref="ScheduleKind.OneCycle"/>: the fraction of the run spent warming up.</summary>
    public double WarmupFraction { get; init; } = 0.15;

    // PyTorch's OneCycleLR defaults: start at peak/25, end at start/1e4.
    private const double OneCycleDiv = 25, OneCycleFinalDiv = 1e4;

    /// <summary>Milestones written as comma-separated epochs, e.g. <c>82,123</c>.</summary>
    public static int[] ParseMilestones(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v)
                ? v
                : throw new ArgumentException($"milestones '{text}' must be comma-separated epochs, e.g. 82,123."))
            .ToArray();

    /// <summary>Checks the settings; a bad one gets an <see cref="ArgumentException"/> naming it.</summary>
    public void Validate()
    {
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
            throw new ArgumentException($"the learning rate must be a positive number; got {LearningRate}.");
        if (!(Gamma > 0) || !double.IsFinite(Gamma))
            throw new ArgumentException($"gamma must be a positive number; got {Gamma}.");
        if (StepEpochs < 1)
            throw new ArgumentException($"the step schedule's epochs between decays must be >= 1; got {StepEpochs}.");
        if (Milestones.Any(m => m < 1) || Milestones.Zip(Milestones.Skip(1)).Any(p => p.First >= p.Second))
            throw new ArgumentException($"milestones must be increasing positive epochs; got {string.Join(",", Milestones)}.");
        if (!(WarmupFraction is >= 0 and < 1))
            throw new ArgumentException($"the warm-up fraction must be in [0, 1); got {WarmupFraction}.");
    }

    /// <summary>
    /// The rate for batch <paramref name="batch"/> of <paramref name="batchesPerEpoch"/> in epoch
    /// <paramref name="epoch"/> (counted from 0) of a run of <paramref name="epochs"/> epochs.
    /// </summary>
    public double At(int epoch, int batch, int batchesPerEpoch, int epochs)
    {
        long total = (long)epochs * batchesPerEpoch;
        long step = (long)epoch * batchesPerEpoch + batch;
        double progress = total <= 1 ? 0 : Math.Clamp((double)step / (total - 1), 0, 1);
        switch (Kind)
        {
            case ScheduleKind.Constant:
                return LearningRate;
            case ScheduleKind.Step:
                return LearningRate * Math.Pow(Gamma, epoch / StepEpochs);
            case ScheduleKind.MultiStep:
                return LearningRate * Math.Pow(Gamma, Milestones.Count(m => epoch >= m));
            case ScheduleKind.Cosine:
                return LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress));
            case ScheduleKind.OneCycle:
            {
                double start = LearningRate / OneCycleDiv, end = start / OneCycleFinalDiv;
                if (progress < WarmupFraction)
                    return start + (LearningRate - start) * progress / WarmupFraction;
                double t = WarmupFraction >= 1 ? 1 : (progress - WarmupFraction) / (1 - WarmupFraction);
                return end + (LearningRate - end) * 0.5 * (1 + Math.Cos(Math.PI * t));
            }
            default:
                throw new InvalidOperationException($"unknown schedule {Kind}");
        }
    }
}
