using HetConv.Training;

namespace HetConv.Studies;

/// <summary>
/// What a study trains: one model in several convolution variants (the paper's names: P1, P4, PC, GWC4_PWC,
/// DWC_PWC, P4_SE...), each with seeds 1..<see cref="Seeds"/>, under one schedule: the same number of epochs, or
/// (with <see cref="BudgetMinutes"/>) the same wall-clock time per run, the epochs fitted to it.
/// </summary>
public sealed record StudyOptions
{
    public string Model { get; init; } = "resnet20";
    public IReadOnlyList<string> Variants { get; init; } = ["P1", "P2", "P4", "P8", "PC", "GWC4_PWC", "DWC_PWC"];

    /// <summary>A data set name or "auto" (from the directory's files).</summary>
    public string DataSet { get; init; } = "auto";
    public string DataDirectory { get; init; } = Data.DataSets.DefaultDirectory;

    /// <summary>Epochs of every run (ignored when <see cref="BudgetMinutes"/> is given).</summary>
    public int Epochs { get; init; } = new TrainingOptions().Epochs;

    /// <summary>Wall-clock minutes per run (training and its per-epoch test passes); null: equal epochs.</summary>
    public double? BudgetMinutes { get; init; }

    public int Seeds { get; init; } = 2;
    public int? TrainLimit { get; init; }
    public int? TestLimit { get; init; }
    public int BatchSize { get; init; } = new TrainingOptions().BatchSize;

    /// <summary>The learning-rate schedule of every run (with a budget, one that spans the run: one-cycle or cosine).</summary>
    public LearningRateSchedule Schedule { get; init; } = new();
    public double Momentum { get; init; } = new TrainingOptions().Momentum;
    public bool Nesterov { get; init; } = new TrainingOptions().Nesterov;
    public double WeightDecay { get; init; } = new TrainingOptions().WeightDecay;
    public string Device { get; init; } = "cpu";
    public int? Threads { get; init; }

    /// <summary>The study's directory: one run directory per variant and seed under runs/, then the tables, plots and report.</summary>
    public required string OutDirectory { get; init; }

    /// <summary>The command line that asked for the study, shown in the report.</summary>
    public string Command { get; init; } = "";

    public void Validate()
    {
        if (Variants.Count == 0) throw new ArgumentException("give at least one variant, e.g. --variants P1,P4.");
        if (Variants.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Variants.Count)
            throw new ArgumentException($"a variant is named twice in {string.Join(",", Variants)}.");
        if (Seeds < 1) throw new ArgumentException($"seeds must be >= 1; got {Seeds}.");
        if (BudgetMinutes is { } budget && !(budget > 0 && double.IsFinite(budget)))
            throw new ArgumentException($"the budget must be a positive number of minutes; got {budget}.");
        foreach (var variant in Variants) StudyVariant.Parse(variant);
        RunOptions(Variants[0], 1, DataSet, Epochs).Validate();
    }

    /// <summary>The training run of one variant and seed, in the study's settings and the schedule's defaults.</summary>
    public TrainingOptions RunOptions(string variant, long seed, string dataSet, int epochs)
    {
        var v = StudyVariant.Parse(variant);
        return new TrainingOptions
        {
            Model = Model,
            Conv = v.Conv,
            Part = v.Part,
            Groups = v.Groups,
            SqueezeExcitation = v.SqueezeExcitation,
            DataSet = dataSet,
            DataDirectory = Path.GetFullPath(DataDirectory),
            TrainLimit = TrainLimit,
            TestLimit = TestLimit,
            Epochs = epochs,
            BatchSize = BatchSize,
            Schedule = Schedule,
            Momentum = Momentum,
            Nesterov = Nesterov,
            WeightDecay = WeightDecay,
            Seed = seed,
            Device = Device,
            Threads = Threads,
        };
    }
}
