using System.CommandLine;
using HetConv.Data;
using HetConv.Training;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv train</c>'s options, their defaults taken from <see cref="TrainingOptions"/>.</summary>
internal sealed class TrainOptions
{
    private static readonly TrainingOptions Defaults = new();

    public readonly Option<string> Model = new("--model", "-m") { Description = "zoo model (resnet20, resnet56, vgg16-cifar, ...)",
        DefaultValueFactory = _ => Defaults.Model };
    public readonly Option<string?> Conv = Described(ModelOptions.Conv(), "convolution kind for every KxK layer after the stem: standard, hetconv, gwc-pwc, dwc-pwc (default: hetconv)");
    public readonly Option<string?> Part = Described(ModelOptions.Part(), null, $" (default: {TrainingOptions.DefaultPart} with hetconv; 1 is a standard convolution)");
    public readonly Option<int?> Groups = ModelOptions.Groups();
    public readonly Option<bool> Se = ModelOptions.SqueezeExcitation();
    public readonly Option<string> Data = new("--data") { Description = "data directory: MNIST-format IDX files (raw or .gz), CIFAR-10/100 binary files, or an image folder",
        DefaultValueFactory = _ => DataSets.DefaultDirectory };
    public readonly Option<string> DataSet = new("--dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100, folder or auto (from the directory's files)",
        DefaultValueFactory = _ => "auto" };
    public readonly Option<int> ImageSize = ImageFolderOptions.ImageSize();
    public readonly Option<string?> Mean = new("--mean") { Description = "per-channel mean in [0, 1], comma-separated (default: estimated from the training images)" };
    public readonly Option<string?> Std = new("--std") { Description = "per-channel standard deviation in [0, 1], comma-separated (with --mean)" };
    public readonly Option<string> BadImages = ImageFolderOptions.BadImages();
    public readonly Option<int?> Workers = ImageFolderOptions.Workers();
    public readonly Option<int> Epochs = new("--epochs", "-e") { Description = "epochs to train", DefaultValueFactory = _ => Defaults.Epochs };
    public readonly Option<int> BatchSize = new("--batch-size", "-b") { Description = "images per batch", DefaultValueFactory = _ => Defaults.BatchSize };
    public readonly Option<double> Lr = new("--lr") { Description = "learning rate (the peak for onecycle)",
        DefaultValueFactory = _ => Defaults.Schedule.LearningRate };
    public readonly Option<string> Schedule = new("--schedule") { Description = string.Join(", ", ScheduleKinds.Names.Values),
        DefaultValueFactory = _ => Defaults.Schedule.Kind.Name() };
    public readonly Option<double> Warmup = new("--warmup") { Description = "onecycle: fraction of the run spent warming up",
        DefaultValueFactory = _ => Defaults.Schedule.WarmupFraction };
    public readonly Option<int> StepEpochs = new("--step-epochs") { Description = "step: epochs between decays (the paper's VGG-16: 50)",
        DefaultValueFactory = _ => Defaults.Schedule.StepEpochs };
    public readonly Option<string> Milestones = new("--milestones") { Description = "multistep: comma-separated epochs to decay at (He et al.: 82,123 of 164)",
        DefaultValueFactory = _ => string.Join(",", Defaults.Schedule.Milestones) };
    public readonly Option<double> Gamma = new("--gamma") { Description = "step/multistep: decay factor", DefaultValueFactory = _ => Defaults.Schedule.Gamma };
    public readonly Option<double> Momentum = new("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => Defaults.Momentum };
    public readonly Option<bool> Nesterov = new("--nesterov") { Description = "Nesterov momentum; --nesterov false for classical momentum (default: true)",
        DefaultValueFactory = _ => Defaults.Nesterov };
    public readonly Option<double> WeightDecay = new("--weight-decay", "--wd") { Description = "weight decay (L2)",
        DefaultValueFactory = _ => Defaults.WeightDecay };
    public readonly Option<bool> NoAugment = new("--no-augment") { Description = "train without random crops and flips" };
    public readonly Option<long> Seed = new("--seed") { Description = "seed for initialisation, data order and augmentation",
        DefaultValueFactory = _ => Defaults.Seed };
    public readonly Option<string> Device = DeviceOption.Create();
    public readonly Option<int?> TrainLimit = new("--train-limit") { Description = "use only the first N training images" };
    public readonly Option<int?> TestLimit = new("--test-limit") { Description = "use only the first N test images" };
    public readonly Option<string?> Out = new("--out", "-o") { Description = "run directory for checkpoints, metrics, plots and summary (default: runs/<model>-<conv>-<dataset>-<time>)" };
    public readonly Option<string?> Resume = new("--resume") { Description = "continue the run in this directory from its last checkpoint; only --epochs, --data, --device and --threads may change" };
    public readonly Option<int?> Threads = ThreadsOption.Create();

    public IReadOnlyList<Option> All => new Option[]
    {
        Model, Conv, Part, Groups, Se, Data, DataSet, ImageSize, Mean, Std, BadImages, Workers, Epochs, BatchSize, Lr, Schedule, Warmup, StepEpochs, Milestones, Gamma,
        Momentum, Nesterov, WeightDecay, NoAugment, Seed, Device, TrainLimit, TestLimit, Out, Resume, Threads,
    };

    /// <summary>The optimizer's options (the learning-rate schedule, momentum, weight decay), which <c>hetconv study</c> takes too.</summary>
    public IReadOnlyList<Option> OptimizerOptions => new Option[] { Lr, Schedule, Warmup, StepEpochs, Milestones, Gamma, Momentum, Nesterov, WeightDecay };

    public LearningRateSchedule ReadSchedule(ParseResult result) => new()
    {
        Kind = ScheduleKinds.Parse(result.GetValue(Schedule)!),
        LearningRate = result.GetValue(Lr),
        WarmupFraction = result.GetValue(Warmup),
        StepEpochs = result.GetValue(StepEpochs),
        Milestones = LearningRateSchedule.ParseMilestones(result.GetValue(Milestones)!),
        Gamma = result.GetValue(Gamma),
    };

    /// <summary>The options a resumed run may be given (<see cref="TrainingOptions.ResumedWith"/>).</summary>
    public IReadOnlyList<Option> Resumable => new Option[] { Resume, Epochs, Data, Device, Threads, Workers };

    /// <summary>The run the options describe (the data set's kind is left to the caller, which detects it).</summary>
    public TrainingOptions Read(ParseResult result) => new()
    {
        Model = result.GetValue(Model)!,
        Conv = result.GetValue(Conv),
        Part = TrainingOptions.PartFor(result.GetValue(Conv), result.GetValue(Part)),
        Groups = result.GetValue(Groups),
        SqueezeExcitation = result.GetValue(Se),
        DataDirectory = Path.GetFullPath(result.GetValue(Data)!),
        Normalization = ChannelNormalization.Parse(result.GetValue(Mean), result.GetValue(Std)),
        BadImages = ImageFolderOptions.Policy(result.GetValue(BadImages)!),
        TrainLimit = result.GetValue(TrainLimit),
        TestLimit = result.GetValue(TestLimit),
        Epochs = result.GetValue(Epochs),
        BatchSize = result.GetValue(BatchSize),
        Schedule = ReadSchedule(result),
        Momentum = result.GetValue(Momentum),
        Nesterov = result.GetValue(Nesterov),
        WeightDecay = result.GetValue(WeightDecay),
        Augment = !result.GetValue(NoAugment),
        Seed = result.GetValue(Seed),
        Device = result.GetValue(Device)!,
        Threads = result.GetValue(Threads),
    };

    private static Option<T> Described<T>(Option<T> option, string? description, string? suffix = null)
    {
        option.Description = description ?? option.Description + suffix;
        return option;
    }
}
