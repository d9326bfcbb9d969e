namespace HetConv.Training;

/// <summary>The shapes of learning-rate schedule the trainer knows.</summary>
public enum ScheduleKind
{
    /// <summary>The same rate throughout.</summary>
    Constant,

    /// <summary>Multiply by gamma every <c>StepEpochs</c> epochs (the paper's VGG-16: x0.1 every 50).</summary>
    Step,

    /// <summary>Multiply by gamma at each milestone epoch (He et al.'s ResNets: x0.1 at epochs 82 and 123 of 164).</summary>
    MultiStep,

    /// <summary>Cosine annealing from the base rate to zero over the run, per batch.</summary>
    Cosine,

    /// <summary>One cycle: linear warm-up from base/25 to the base rate, then cosine annealing to base/250000.</summary>
    OneCycle,
}
