using System.Text.Json;
using System.Text.Json.Serialization;

namespace HetConv.Training;

/// <summary>Everything that defines a training run; saved as the run's <c>config.json</c> and in each checkpoint.</summary>
public sealed record TrainingOptions
{
    /// <summary>The model's name (e.g. <c>resnet20</c>); how it is built is up to the caller's model factory.</summary>
    public string Model { get; init; } = "resnet20";

    /// <summary>The convolution kind: standard, hetconv, gwc-pwc or dwc-pwc (null: hetconv when a part is given, else the model's own).</summary>
    public string? Conv { get; init; }

    /// <summary>HetConv's part P, or C for per-channel (null: the model's own convolutions).</summary>
    public string? Part { get; init; } = "4";

    /// <summary>GWC's groups, for conv gwc-pwc.</summary>
    public int? Groups { get; init; }

    /// <summary>Squeeze-and-Excitation in every block.</summary>
    public bool SqueezeExcitation { get; init; }

    public string DataSet { get; init; } = "fashion-mnist";
    public string DataDirectory { get; init; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Use only the first this many training images (all when null).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Use only the first this many test images (all when null).</summary>
    public int? TestLimit { get; init; }

    public int Epochs { get; init; } = 4;
    public int BatchSize { get; init; } = 128;
    public LearningRateSchedule Schedule { get; init; } = new();
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; } = true;
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Random crop with 4-pixel padding and horizontal flips on the training images.</summary>
    public bool Augment { get; init; } = true;

    public long Seed { get; init; } = 1;
    public string Device { get; init; } = "cpu";

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be >= 1; got {Epochs}.");
        if (BatchSize < 1) throw new ArgumentException($"the batch size must be >= 1; got {BatchSize}.");
        if (TrainLimit is < 1) throw new ArgumentException($"the training-image limit must be >= 1; got {TrainLimit}.");
        if (TestLimit is < 1) throw new ArgumentException($"the test-image limit must be >= 1; got {TestLimit}.");
        if (!(Momentum is >= 0 and < 1)) throw new ArgumentException($"momentum must be in [0, 1); got {Momentum}.");
        if (Nesterov && Momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum > 0.");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new ArgumentException($"weight decay must be >= 0; got {WeightDecay}.");
        Schedule.Validate();
    }

    /// <summary>The JSON settings of every file a run writes: snake_case names, enums as names, indented.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
