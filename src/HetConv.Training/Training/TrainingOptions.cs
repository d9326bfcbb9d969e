using System.Text.Json;
using System.Text.Json.Serialization;
using HetConv.Data;

namespace HetConv.Training;

/// <summary>Everything that defines a training run; saved as the run's <c>config.json</c> and in each checkpoint.</summary>
public sealed record TrainingOptions
{
    /// <summary>The model's name (e.g. <c>resnet20</c>); how it is built is up to the caller's model factory.</summary>
    public string Model { get; init; } = "resnet20";

    /// <summary>The convolution kind: standard, hetconv, gwc-pwc or dwc-pwc (null: hetconv when a part is given, else the model's own).</summary>
    public string? Conv { get; init; }

    /// <summary>HetConv's part P, or C for per-channel (null: the model's own convolutions).</summary>
    public string? Part { get; init; } = DefaultPart;

    /// <summary>The part a run takes when none is given and the convolution is HetConv (named or by default).</summary>
    public const string DefaultPart = "4";

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

    /// <summary>Image folders: training and test crops are this size squared (null for IDX/CIFAR, which keep their size).</summary>
    public int? ImageSize { get; init; }

    /// <summary>Per-channel mean and standard deviation given for the run (null: estimated from the training images).</summary>
    public ChannelNormalization? Normalization { get; init; }

    /// <summary>Image folders: whether an image that cannot be decoded stops the run or is left out.</summary>
    public BadImagePolicy BadImages { get; init; } = BadImagePolicy.Fail;

    /// <summary>How an image folder is read for this run, decoding on <paramref name="workers"/> threads (default: one per core).</summary>
    public ImageFolderSettings FolderSettings(int? workers = null) => new()
    {
        ImageSize = ImageSize ?? ImageFolderSettings.DefaultImageSize,
        BadImages = BadImages,
        Workers = workers ?? ImageFolderSettings.DefaultWorkers,
    };

    public int Epochs { get; init; } = 4;
    public int BatchSize { get; init; } = 128;
    public LearningRateSchedule Schedule { get; init; } = new();
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; } = true;
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Random crop with 4-pixel padding and horizontal flips on the training images (image folders: RandomResizedCrop and flips).</summary>
    public bool Augment { get; init; } = true;

    public long Seed { get; init; } = 1;
    public string Device { get; init; } = "cpu";

    /// <summary>libtorch's CPU threads (null: one per core). A resumed run keeps them unless told otherwise.</summary>
    public int? Threads { get; init; }

    /// <summary>
    /// The part for a run given <paramref name="conv"/> and <paramref name="part"/> on the command line: the part
    /// given, else <see cref="DefaultPart"/> when the convolution is HetConv (named, or by default), else none.
    /// </summary>
    public static string? PartFor(string? conv, string? part) =>
        part ?? (conv is null || conv.Trim().Equals("hetconv", StringComparison.OrdinalIgnoreCase) ? DefaultPart : null);

    /// <summary>
    /// These options with what a resumed run may change: more (or fewer, but not fewer than done) epochs, the data
    /// directory (the same data moved), the device and the threads. The rest define the run and stay.
    /// </summary>
    public TrainingOptions ResumedWith(ResumeChanges changes, int epochsDone)
    {
        if (changes.Epochs is { } epochs && epochs <= epochsDone)
            throw new ArgumentException($"the run has already finished {epochsDone} epochs; to train more, ask for more than {epochsDone} (got {epochs}).");
        var resumed = this with
        {
            Epochs = changes.Epochs ?? Epochs,
            DataDirectory = changes.DataDirectory is { } data ? Path.GetFullPath(data) : DataDirectory,
            Device = changes.Device ?? Device,
            Threads = changes.Threads ?? Threads,
        };
        resumed.Validate();
        return resumed;
    }

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be >= 1; got {Epochs}.");
        if (BatchSize < 1) throw new ArgumentException($"the batch size must be >= 1; got {BatchSize}.");
        if (TrainLimit is < 1) throw new ArgumentException($"the training-image limit must be >= 1; got {TrainLimit}.");
        if (TestLimit is < 1) throw new ArgumentException($"the test-image limit must be >= 1; got {TestLimit}.");
        if (!(Momentum is >= 0 and < 1)) throw new ArgumentException($"momentum must be in [0, 1); got {Momentum}.");
        if (Nesterov && Momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum > 0.");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new ArgumentException($"weight decay must be >= 0; got {WeightDecay}.");
        if (Threads is < 1) throw new ArgumentException($"threads must be >= 1; got {Threads}.");
        if (ImageSize is < 8) throw new ArgumentException($"the image size must be >= 8; got {ImageSize}.");
        if (Normalization is { } n && (n.Mean.Length != n.Std.Length || n.Std.Any(s => !(s > 0))))
            throw new ArgumentException("the normalisation needs as many means as standard deviations, each deviation > 0.");
        Schedule.Validate();
    }

    /// <summary>
    /// The JSON settings of every file a run writes: snake_case names, enums as names, indented; a number that is
    /// not finite (a loss that overflowed) is written as the string "NaN", "Infinity" or "-Infinity" and read back.
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}

/// <summary>What <c>--resume</c> may change in a run (null: keep the run's own).</summary>
public sealed record ResumeChanges(int? Epochs = null, string? DataDirectory = null, string? Device = null, int? Threads = null);
