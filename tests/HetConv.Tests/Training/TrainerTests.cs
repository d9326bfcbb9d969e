using System.Text.Json;
using HetConv.Data;
using HetConv.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Training;

/// <summary>Whole training runs of <see cref="TinyNet"/> on real Fashion-MNIST subsets.</summary>
[Collection(nameof(ProcessWideState))]
public class TrainerTests
{
    private static TrainingOptions Options(int trainImages, int testImages, int epochs, int batch) => new()
    {
        Model = "tiny",
        Conv = null,
        Part = null,
        TrainLimit = trainImages,
        TestLimit = testImages,
        Epochs = epochs,
        BatchSize = batch,
        Schedule = new LearningRateSchedule { Kind = ScheduleKind.OneCycle, LearningRate = 0.1, WarmupFraction = 0.15 },
        Seed = 11,
        // Bit-for-bit comparisons need a fixed thread count (left free with HETCONV_ADAPT_THREADS=1, it follows the load).
        Threads = TorchSharp.torch.get_num_threads(),
    };

    [Fact]
    public void Learns_a_fashion_mnist_subset_far_above_chance_and_writes_the_run_directory()
    {
        using var dir = new TempDirectory();
        var options = Options(4000, 1000, epochs: 2, batch: 32);   // 250 steps
        var summary = new Trainer(TinyNet.Factory).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, dir.Path);

        Assert.True(summary.BestTestAccuracy > 0.6, $"best test accuracy {summary.BestTestAccuracy} (chance: 0.1)");
        Assert.True(summary.BestTestAccuracy >= summary.FinalTestAccuracy);
        Assert.Equal((2, 4000, 1000), (summary.Epochs, summary.TrainImages, summary.TestImages));
        Assert.Equal(TinyNet.FashionMnistMacs, summary.Flops);
        Assert.Equal(TinyNet.Parameters, summary.Params);

        var history = MetricsCsv.Read(Path.Combine(dir.Path, Trainer.MetricsFile));
        Assert.Equal(new[] { 1, 2 }, history.Select(m => m.Epoch));
        Assert.Equal(summary.FinalTestAccuracy, history[^1].TestAccuracy, 5);
        Assert.True(history[1].TrainLoss < history[0].TrainLoss);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, Trainer.SummaryFile)));
        foreach (var key in new[] { "model", "part", "flops", "params", "best_test_accuracy", "final_test_accuracy", "epochs", "seconds_per_epoch", "images_per_second" })
            Assert.True(json.RootElement.TryGetProperty(key, out _), $"summary.json lacks {key}");
        Assert.InRange(json.RootElement.GetProperty("best_test_accuracy").GetDouble(), 0.6, 1.0);

        var config = JsonSerializer.Deserialize<TrainingOptions>(File.ReadAllText(Path.Combine(dir.Path, Trainer.ConfigFile)), TrainingOptions.Json)!;
        Assert.Equal(options.Schedule.Kind, config.Schedule.Kind);
        Assert.Equal(options with { Schedule = config.Schedule }, config);

        foreach (var png in new[] { Trainer.LossPlot, Trainer.AccuracyPlot })
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(Path.Combine(dir.Path, png))[..4]);
        var best = Checkpoint.ReadState(Path.Combine(dir.Path, Trainer.BestCheckpoint));
        Assert.Equal(summary.BestEpoch, best.EpochsDone);
    }

    /// <summary>Stops the run (as Ctrl+C would) at one batch, and records tensors alive after each epoch.</summary>
    private sealed class Interrupter(int epoch, int batch, CancellationTokenSource cancel) : ITrainingObserver
    {
        public List<long> LiveTensors { get; } = new();

        public void BatchDone(int e, int b, int batches, double loss, double accuracy, double imagesPerSecond)
        {
            if (e == epoch && b == batch) cancel.Cancel();
        }

        public void EpochDone(EpochMetrics metrics, int epochs) =>
            LiveTensors.Add(DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void A_run_stopped_mid_epoch_and_resumed_ends_as_the_uninterrupted_run()
    {
        using var whole = new TempDirectory();
        using var stopped = new TempDirectory();
        var options = Options(1000, 300, epochs: 3, batch: 50);

        var counter = new Interrupter(-1, -1, new CancellationTokenSource());
        var reference = new Trainer(TinyNet.Factory, counter).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, whole.Path);

        using var cancel = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new Trainer(TinyNet.Factory, new Interrupter(2, 7, cancel)).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, stopped.Path, cancel.Token));
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(stopped.Path, Trainer.LastCheckpoint)).EpochsDone);
        Assert.Single(MetricsCsv.Read(Path.Combine(stopped.Path, Trainer.MetricsFile)));

        var resumed = new Trainer(TinyNet.Factory).Resume(stopped.Path, FashionMnistSubset.Train, FashionMnistSubset.Test);

        var expected = MetricsCsv.Read(Path.Combine(whole.Path, Trainer.MetricsFile));
        var actual = MetricsCsv.Read(Path.Combine(stopped.Path, Trainer.MetricsFile));
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal(e.Epoch, a.Epoch);
            Assert.Equal(e.LearningRate, a.LearningRate, 9);
            Assert.Equal(e.TrainLoss, a.TrainLoss, 4);
            Assert.Equal(e.TestLoss, a.TestLoss, 4);
            Assert.Equal(e.TestAccuracy, a.TestAccuracy, 3);
        }
        Assert.Equal(reference.FinalTestAccuracy, resumed.FinalTestAccuracy, 3);

        using var a1 = new TinyNet(1, 10);
        using var a2 = new TinyNet(1, 10);
        Checkpoint.Restore(Path.Combine(whole.Path, Trainer.LastCheckpoint), a1);
        Checkpoint.Restore(Path.Combine(stopped.Path, Trainer.LastCheckpoint), a2);
        foreach (var ((name, p1), (_, p2)) in a1.state_dict().Zip(a2.state_dict()))
            TensorAssert.Close(p2, p1, rtol: 1e-3, what: name);

        // No tensor is left behind by an epoch: as many alive after the third as after the first.
        Assert.Equal(3, counter.LiveTensors.Count);
        Assert.True(counter.LiveTensors[2] <= counter.LiveTensors[0], $"live tensors after epochs 1..3: {string.Join(", ", counter.LiveTensors)}");
    }

    /// <summary>TinyNet whose output turns NaN from its n-th training forward pass on.</summary>
    private sealed class PoisonedNet : nn.Module<Tensor, Tensor>
    {
        private readonly TinyNet inner = new(1, 10);
        private readonly int poisonAt;
        private int calls;

        public PoisonedNet(int poisonAt) : base(nameof(PoisonedNet))
        {
            this.poisonAt = poisonAt;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var y = inner.call(input);
            if (training && ++calls >= poisonAt) return y * float.NaN;
            return y;
        }
    }

    [Fact]
    public void A_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint()
    {
        using var dir = new TempDirectory();
        var options = Options(200, 100, epochs: 3, batch: 50);   // 4 batches per epoch
        ModelFactory factory = (_, _, _) => new PoisonedNet(poisonAt: 6);
        var e = Assert.Throws<NonFiniteLossException>(() =>
            new Trainer(factory).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, dir.Path));
        Assert.Equal((2, 2), (e.Epoch, e.Batch));
        Assert.Contains("NaN", e.Message);

        var last = Path.Combine(dir.Path, Trainer.LastCheckpoint);
        Assert.Equal(1, Checkpoint.ReadState(last).EpochsDone);
        Assert.Single(MetricsCsv.Read(Path.Combine(dir.Path, Trainer.MetricsFile)));
        using var restored = new PoisonedNet(int.MaxValue);
        Checkpoint.Restore(last, restored);
        using var noGrad = no_grad();
        restored.eval();
        Assert.True(restored.call(randn(2, 1, 28, 28)).isfinite().all().item<bool>());
    }

    [Fact]
    public void Starting_over_an_existing_run_is_refused()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, Trainer.LastCheckpoint), "a previous run");
        var e = Assert.ThrowsAny<IOException>(() =>
            new Trainer(TinyNet.Factory).Train(Options(100, 100, 1, 50), FashionMnistSubset.Train, FashionMnistSubset.Test, dir.Path));
        Assert.Contains("resume", e.Message);
        Assert.Equal("a previous run", File.ReadAllText(Path.Combine(dir.Path, Trainer.LastCheckpoint)));
    }

    /// <summary>TinyNet with dropout on its input: every training batch draws from torch's generator.</summary>
    private sealed class DropoutNet : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Dropout dropout = nn.Dropout(0.2);
        private readonly TinyNet inner;

        public DropoutNet(int inChannels, int classes) : base(nameof(DropoutNet))
        {
            inner = new TinyNet(inChannels, classes);
            RegisterComponents();
        }

        public static ModelFactory Factory { get; } = (_, inChannels, classes) => new DropoutNet(inChannels, classes);

        public override Tensor forward(Tensor input) => inner.call(dropout.call(input));
    }

    /// <summary>
    /// The two runs' last checkpoints hold the same history (losses, accuracies, rates), the same generators'
    /// states and bit for bit the same parameters and buffers.
    /// </summary>
    private static void AssertSameRun(string expectedRun, string actualRun, string what)
    {
        string expectedPath = Path.Combine(expectedRun, Trainer.LastCheckpoint), actualPath = Path.Combine(actualRun, Trainer.LastCheckpoint);
        var expected = Checkpoint.ReadState(expectedPath);
        var actual = Checkpoint.ReadState(actualPath);
        Assert.Equal(expected.History.Select(m => (m.Epoch, m.LearningRate, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)),
            actual.History.Select(m => (m.Epoch, m.LearningRate, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)));
        Assert.Equal(expected.TorchRandomState, actual.TorchRandomState);
        Assert.Equal(expected.DataRandomState, actual.DataRandomState);
        using var a = new DropoutNet(1, 10);
        using var b = new DropoutNet(1, 10);
        Checkpoint.Restore(expectedPath, a);
        Checkpoint.Restore(actualPath, b);
        var expectedTensors = a.state_dict();
        var actualTensors = b.state_dict();
        Assert.Equal(expectedTensors.Keys, actualTensors.Keys);
        Assert.NotEmpty(expectedTensors);
        foreach (var (name, tensor) in expectedTensors)
            Assert.True(tensor.equal(actualTensors[name]).all().item<bool>(), $"{what}: {name} differs from the uninterrupted run's");
    }

    [Fact]
    public void Stopped_at_random_batches_and_resumed_a_model_with_dropout_ends_bit_for_bit_as_the_uninterrupted_run()
    {
        var options = Options(400, 100, epochs: 3, batch: 25) with { Model = "dropout" };   // 16 batches per epoch
        using var whole = new TempDirectory();
        new Trainer(DropoutNet.Factory).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, whole.Path);

        var random = new Random(2026);
        for (int trial = 0; trial < 3; trial++)
        {
            // The first trial stops twice. Stops in epochs 2 and 3 (epoch 1 has no checkpoint to resume from) and
            // before an epoch's last batch (a stop asked for there is seen only at the next batch).
            var stops = Enumerable.Range(0, trial == 0 ? 2 : 1).Select(_ => (Epoch: random.Next(2, 4), Batch: random.Next(1, 16)))
                .OrderBy(s => s).ToList();
            string what = $"stopped at (epoch, batch) {string.Join(" then ", stops)}";
            using var stopped = new TempDirectory();
            bool started = false;
            foreach (var (epoch, batch) in stops)
            {
                using var cancel = new CancellationTokenSource();
                var interrupter = new Interrupter(epoch, batch, cancel);
                Assert.ThrowsAny<OperationCanceledException>(() =>
                {
                    if (!started)
                        new Trainer(DropoutNet.Factory, interrupter).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, stopped.Path, cancel.Token);
                    else
                        new Trainer(DropoutNet.Factory, interrupter).Resume(stopped.Path, FashionMnistSubset.Train, FashionMnistSubset.Test, cancel: cancel.Token);
                });
                started = true;
            }
            new Trainer(DropoutNet.Factory).Resume(stopped.Path, FashionMnistSubset.Train, FashionMnistSubset.Test);
            AssertSameRun(whole.Path, stopped.Path, what);
        }
    }

    [Fact]
    public void A_checkpoint_write_that_fails_midway_keeps_the_previous_one_and_the_resumed_run_ends_bit_for_bit_the_same()
    {
        var options = Options(200, 50, epochs: 3, batch: 25) with { Model = "dropout" };
        using var whole = new TempDirectory();
        new Trainer(DropoutNet.Factory).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, whole.Path);

        using var failed = new TempDirectory();
        try
        {
            HetConv.Files.WriteFault.Inject($"{Trainer.LastCheckpoint}:2:full");   // the disk fills during epoch 2's checkpoint
            var e = Assert.Throws<IOException>(() =>
                new Trainer(DropoutNet.Factory).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, failed.Path));
            Assert.Contains(Path.Combine(failed.Path, Trainer.LastCheckpoint), e.Message);
            Assert.Contains("No space left on device", e.Message);
        }
        finally
        {
            HetConv.Files.WriteFault.Inject(null);
        }
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(failed.Path, Trainer.LastCheckpoint)).EpochsDone);
        Assert.Empty(Directory.GetFiles(failed.Path, "*.tmp"));

        new Trainer(DropoutNet.Factory).Resume(failed.Path, FashionMnistSubset.Train, FashionMnistSubset.Test);
        AssertSameRun(whole.Path, failed.Path, "after a failed write");
    }

    [Fact]
    public void A_resumed_run_may_train_more_epochs_and_records_them()
    {
        var options = Options(100, 50, epochs: 2, batch: 50);
        using var dir = new TempDirectory();
        new Trainer(TinyNet.Factory).Train(options, FashionMnistSubset.Train, FashionMnistSubset.Test, dir.Path);
        var e = Assert.Throws<ArgumentException>(() =>
            new Trainer(TinyNet.Factory).Resume(dir.Path, FashionMnistSubset.Train, FashionMnistSubset.Test, new ResumeChanges(Epochs: 2)));
        Assert.Contains("already finished 2 epochs", e.Message);

        var summary = new Trainer(TinyNet.Factory).Resume(dir.Path, FashionMnistSubset.Train, FashionMnistSubset.Test, new ResumeChanges(Epochs: 3, Threads: 1));
        Assert.Equal((3, 3), (summary.Epochs, summary.EpochsPlanned));
        var config = JsonSerializer.Deserialize<TrainingOptions>(File.ReadAllText(Path.Combine(dir.Path, Trainer.ConfigFile)), TrainingOptions.Json)!;
        Assert.Equal(options with { Epochs = 3, Threads = 1 }, config with { Schedule = options.Schedule });
        var state = Checkpoint.ReadState(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        Assert.Equal((3, 3, 1), (state.EpochsDone, state.Options.Epochs, state.Options.Threads));
    }

    [Fact]
    public void A_second_run_into_a_claimed_directory_is_refused_and_the_first_run_config_stays()
    {
        using var dir = new TempDirectory();
        var first = Options(100, 50, epochs: 1, batch: 50);
        new Trainer(TinyNet.Factory).Train(first, FashionMnistSubset.Train, FashionMnistSubset.Test, dir.Path);
        string config = File.ReadAllText(Path.Combine(dir.Path, Trainer.ConfigFile));
        var e = Assert.Throws<RunDirectoryException>(() =>
            new Trainer(TinyNet.Factory).Train(first with { Seed = 99 }, FashionMnistSubset.Train, FashionMnistSubset.Test, dir.Path));
        Assert.True(e.InUse);
        Assert.Equal(config, File.ReadAllText(Path.Combine(dir.Path, Trainer.ConfigFile)));
    }

    [Fact]
    public void Resuming_into_a_model_that_no_longer_matches_the_checkpoint_names_the_file()
    {
        using var dir = new TempDirectory();
        new Trainer(TinyNet.Factory).Train(Options(100, 50, epochs: 1, batch: 50) with { Epochs = 1 }, FashionMnistSubset.Train, FashionMnistSubset.Test, dir.Path);
        string last = Path.Combine(dir.Path, Trainer.LastCheckpoint);
        var changes = new ResumeChanges(Epochs: 2);

        ModelFactory otherShape = (_, inChannels, _) => new TinyNet(inChannels, 5);
        var e = Assert.Throws<DataFormatException>(() => new Trainer(otherShape).Resume(dir.Path, FashionMnistSubset.Train, FashionMnistSubset.Test, changes));
        Assert.StartsWith($"{last}: cannot be loaded into a tiny", e.Message);

        ModelFactory unknown = (_, _, _) => throw new ArgumentException("unknown model 'tiny'");
        e = Assert.Throws<DataFormatException>(() => new Trainer(unknown).Resume(dir.Path, FashionMnistSubset.Train, FashionMnistSubset.Test, changes));
        Assert.StartsWith($"{last}: names a model this build cannot make", e.Message);
        Assert.Equal(1, Checkpoint.ReadState(last).EpochsDone);
        Assert.Contains("\"epochs\": 1,", File.ReadAllText(Path.Combine(dir.Path, Trainer.ConfigFile)));
    }
}
