using System.Diagnostics;
using System.Text.Json;
using HetConv.Data;
using HetConv.Files;
using HetConv.Layers.Execution;
using HetConv.Profiling;
using HetConv.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Training;

/// <summary>
/// Trains a classifier with SGD (momentum, weight decay, a learning-rate schedule per batch) and writes the run
/// directory: <c>config.json</c>, <c>metrics.csv</c>, <c>last.ckpt</c> and <c>best.ckpt</c> (by test accuracy),
/// <c>loss.png</c>, <c>accuracy.png</c> and <c>summary.json</c>, all rewritten atomically after every epoch.
/// A resumed run continues from <c>last.ckpt</c> with the same data order, augmentation, random numbers and
/// schedule, so that it ends bit for bit where the uninterrupted run would (given the same threads).
/// </summary>
public sealed class Trainer(ModelFactory modelFactory, ITrainingObserver? observer = null)
{
    public const string ConfigFile = "config.json";
    public const string MetricsFile = "metrics.csv";
    public const string LastCheckpoint = "last.ckpt";
    public const string BestCheckpoint = "best.ckpt";
    public const string SummaryFile = "summary.json";
    public const string LossPlot = "loss.png";
    public const string AccuracyPlot = "accuracy.png";

    /// <summary>Images left out as unreadable (<see cref="BadImagePolicy.Skip"/>), one "path: reason" a line; only when there are some.</summary>
    public const string SkippedImagesFile = "skipped-images.txt";

    private readonly ITrainingObserver observer = observer ?? new SilentObserver();

    /// <summary>Starts a new run in <paramref name="runDirectory"/>, which it claims first (<see cref="RunDirectory.Claim"/>).</summary>
    public TrainingSummary Train(TrainingOptions options, IImageSource train, IImageSource test, string runDirectory, CancellationToken cancel = default)
    {
        options.Validate();
        RunDirectory.Claim(runDirectory);
        train = Limit(train, options.TrainLimit);
        test = Limit(test, options.TestLimit);
        return Loop(options, train, test, runDirectory, resumeFrom: null, cancel);
    }

    /// <summary>
    /// Continues the run in <paramref name="runDirectory"/> from its last checkpoint, with the
    /// <paramref name="changes"/> a resumed run may make, which are recorded in config.json and the checkpoints.
    /// </summary>
    public TrainingSummary Resume(string runDirectory, IImageSource train, IImageSource test, ResumeChanges? changes = null, CancellationToken cancel = default)
    {
        string last = Path.Combine(runDirectory, LastCheckpoint);
        var state = Checkpoint.ReadState(last);
        var options = state.Options.ResumedWith(changes ?? new ResumeChanges(), state.EpochsDone);
        train = Limit(train, options.TrainLimit);
        test = Limit(test, options.TestLimit);
        state.EnsureFits(train, last);
        state.EnsureFits(test, last);
        HetConvExecutions.Auto.Adopt(state.ExecutionChoices);
        return Loop(options, train, test, runDirectory, last, cancel);
    }

    /// <summary>The run directory's options, for a caller that must load the data before resuming.</summary>
    public static TrainingOptions OptionsOf(string runDirectory) =>
        Checkpoint.ReadState(Path.Combine(runDirectory, LastCheckpoint)).Options;

    private TrainingSummary Loop(TrainingOptions options, IImageSource train, IImageSource test, string runDirectory, string? resumeFrom, CancellationToken cancel)
    {
        var device = ParseDevice(options.Device);
        if (options.Threads is { } threads) set_num_threads(threads);
        // Asked for and no count chosen, the thread count follows the load other processes put on the cores.
        using var governor = ThreadGovernor.Requested && options.Threads is null && !TorchRuntime.ThreadsFromEnvironment && ThreadGovernor.Available
            ? new ThreadGovernor(get_num_threads(), set_num_threads)
            : null;
        random.manual_seed(options.Seed);
        using var model = Build(options, train, resumeFrom);
        model.to(device);
        using var optimizer = optim.SGD(model.parameters(), options.Schedule.LearningRate, options.Momentum,
            weight_decay: options.WeightDecay, nesterov: options.Nesterov);
        var (flops, parameters) = Cost(model, train);

        ChannelNormalization? normalization = null;
        var dataRandom = new SeededRandom(options.Seed);
        var history = new List<EpochMetrics>();
        if (resumeFrom is not null)
        {
            var state = Checkpoint.Restore(resumeFrom, model, optimizer);
            normalization = state.Normalization;
            dataRandom = SeededRandom.FromState(state.DataRandomState);
            history = state.History;
            using var rngState = tensor(state.TorchRandomState, ScalarType.Byte);
            random.set_rng_state(rngState);
        }
        // Estimated only for a new run: an image folder's estimate decodes a sample of its images.
        normalization ??= options.Normalization ?? train.EstimateNormalization();
        // Written once the model is known to build (and, resumed, to load), so a refused resume changes nothing.
        AtomicFile.WriteText(Path.Combine(runDirectory, ConfigFile), JsonSerializer.Serialize(options, TrainingOptions.Json));

        using var trainLoader = train.Loader(options.BatchSize, normalization, options.Augment);
        // Test batches of the training size reuse the memory training already holds (a larger size makes the
        // allocator grow the heap on the first test passes).
        using var testLoader = test.Loader(options.BatchSize, normalization, augment: false);
        int batches = trainLoader.BatchCount;
        observer.Starting(history.Count + 1, options.Epochs, batches);

        for (int epoch = history.Count + 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var (trainLoss, trainAccuracy, lastRate) = TrainEpoch(model, optimizer, trainLoader, dataRandom, options, epoch, device, governor, cancel);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            observer.Evaluating(epoch);
            var result = Evaluation.Run(model, testLoader, device, test.ClassCount);
            var metrics = new EpochMetrics(epoch, lastRate, trainLoss, trainAccuracy, result.Loss, result.Accuracy,
                clock.Elapsed.TotalSeconds, train.Count / trainSeconds, Environment.WorkingSet / (1024.0 * 1024));
            bool best = history.Count == 0 || result.Accuracy > history.Max(m => m.TestAccuracy);
            history.Add(metrics);

            using var torchRandom = random.get_rng_state();
            var state = new CheckpointState
            {
                Options = options,
                EpochsDone = epoch,
                DataRandomState = dataRandom.State,
                TorchRandomState = torchRandom.data<byte>().ToArray(),
                ExecutionChoices = HetConvExecutions.Auto.Choices.ToDictionary(c => c.Key.ToString(), c => c.Value.Name),
                Normalization = normalization,
                InChannels = train.Channels,
                Height = train.Height,
                Width = train.Width,
                ClassNames = train.ClassNames.ToArray(),
                History = history,
            };
            Checkpoint.Save(Path.Combine(runDirectory, LastCheckpoint), state, model, optimizer);
            if (best)
                Checkpoint.Save(Path.Combine(runDirectory, BestCheckpoint), state, model, optimizer);
            WriteReports(runDirectory, options, history, train, test, flops, parameters, device);
            observer.EpochDone(metrics, options.Epochs);
        }
        return WriteReports(runDirectory, options, history, train, test, flops, parameters, device);
    }

    private nn.Module<Tensor, Tensor> Build(TrainingOptions options, IImageSource train, string? resumeFrom)
    {
        try
        {
            return modelFactory(options, train.Channels, train.ClassCount);
        }
        catch (ArgumentException e) when (resumeFrom is not null)
        {
            throw new DataFormatException(resumeFrom, $"names a model this build cannot make ({options.Model}, conv {options.Conv ?? "default"}, part {options.Part ?? "1"}): {e.Message}", inner: e);
        }
    }

    /// <summary>
    /// Multiply-accumulates per image and parameters. The profiler's forward pass draws its input from torch's
    /// generator, which is put back as it was, so that training draws the same numbers (dropout) whether the
    /// run started here or resumed from a checkpoint.
    /// </summary>
    private static (long Flops, long Params) Cost(nn.Module<Tensor, Tensor> model, IImageSource train)
    {
        using var generator = random.get_rng_state();
        try
        {
            var profile = ModelProfiler.Profile(model, new long[] { train.Channels, train.Height, train.Width }, FlopConvention.Macs);
            return (profile.FlopCount, profile.Params);
        }
        finally
        {
            random.set_rng_state(generator);
        }
    }

    private (double Loss, double Accuracy, double LastRate) TrainEpoch(nn.Module<Tensor, Tensor> model, SGD optimizer, IBatchLoader loader,
        SeededRandom dataRandom, TrainingOptions options, int epoch, Device device, ThreadGovernor? governor, CancellationToken cancel)
    {
        model.train();
        int batches = loader.BatchCount, batch = 0;
        double lossSum = 0, rate = 0;
        long correct = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (inputs, labels) in loader.Batches(dataRandom))
        {
            cancel.ThrowIfCancellationRequested();
            governor?.Step();
            rate = options.Schedule.At(epoch - 1, batch, batches, options.Epochs);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;

            using var scope = NewDisposeScope();
            var x = inputs.to(device);
            var y = labels.to(device);
            optimizer.zero_grad();
            var logits = model.call(x);
            var loss = nn.functional.cross_entropy(logits, y);
            float lossValue = loss.item<float>();
            if (!float.IsFinite(lossValue))
                throw new NonFiniteLossException(epoch, batch + 1, rate, lossValue);
            loss.backward();
            optimizer.step();

            long n = labels.shape[0];
            lossSum += lossValue * n;
            correct += logits.argmax(1).eq(y).sum().item<long>();
            seen += n;
            batch++;
            observer.BatchDone(epoch, batch, batches, lossSum / seen, (double)correct / seen, seen / clock.Elapsed.TotalSeconds);
        }
        return (lossSum / seen, (double)correct / seen, rate);
    }

    private static TrainingSummary WriteReports(string runDirectory, TrainingOptions options, List<EpochMetrics> history,
        IImageSource train, IImageSource test, long flops, long parameters, Device device)
    {
        MetricsCsv.Write(Path.Combine(runDirectory, MetricsFile), history);
        var skipped = train.Skipped.Concat(test.Skipped).DistinctBy(b => b.Path).ToArray();
        if (skipped.Length > 0)
            AtomicFile.WriteText(Path.Combine(runDirectory, SkippedImagesFile), string.Join('\n', skipped.Select(b => b.ToString())) + "\n");
        string title = $"{options.Model} {ConvDescription(options)} on {options.DataSet}";
        TrainingPlots.SaveLoss(Path.Combine(runDirectory, LossPlot), history, title);
        TrainingPlots.SaveAccuracy(Path.Combine(runDirectory, AccuracyPlot), history, title);
        var best = history.MaxBy(m => m.TestAccuracy)!;
        var summary = new TrainingSummary
        {
            Model = options.Model,
            Conv = ConvDescription(options),
            Part = options.Part ?? "1",
            DataSet = options.DataSet,
            Flops = flops,
            Params = parameters,
            BestTestAccuracy = best.TestAccuracy,
            BestEpoch = best.Epoch,
            FinalTestAccuracy = history[^1].TestAccuracy,
            FinalTestLoss = history[^1].TestLoss,
            Epochs = history.Count,
            EpochsPlanned = options.Epochs,
            SecondsPerEpoch = history.Average(m => m.Seconds),
            ImagesPerSecond = history.Average(m => m.ImagesPerSecond),
            TotalSeconds = history.Sum(m => m.Seconds),
            TrainImages = train.Count,
            TestImages = test.Count,
            SkippedImages = skipped.Length,
            Device = options.Device,
            Threads = get_num_threads(),
            RunDirectory = Path.GetFullPath(runDirectory),
        };
        AtomicFile.WriteText(Path.Combine(runDirectory, SummaryFile), JsonSerializer.Serialize(summary, TrainingOptions.Json));
        return summary;
    }

    /// <summary>The convolution in the paper's notation when the zoo knows the words (P4, PC, GWC4_PWC...).</summary>
    public static string ConvDescription(TrainingOptions options)
    {
        try
        {
            return ModelFactories.ZooOptions(options).ToString();
        }
        catch (ArgumentException)
        {
            return $"{options.Conv ?? "default"} P{options.Part ?? "1"}";
        }
    }

    /// <summary>cpu, cuda or cuda:N; CUDA only when libtorch sees a device.</summary>
    public static Device ParseDevice(string name)
    {
        string n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException($"device '{name}' was asked for, but libtorch sees no CUDA device (this build ships the CPU libtorch).");
            return device(n);
        }
        throw new ArgumentException($"unknown device '{name}'; use cpu, cuda or cuda:N.");
    }

    private static IImageSource Limit(IImageSource data, int? limit) => limit is { } n ? data.Take(n) : data;

    private sealed class SilentObserver : ITrainingObserver;
}
