using System.Diagnostics;
using System.Text.Json;
using HetConv.Data;
using HetConv.Models;
using HetConv.Training;

namespace HetConv.Tests.Cli;

/// <summary>
/// A tiny uninterrupted <c>hetconv train</c> run (ResNet-20 P4, 192 Fashion-MNIST images, 3 epochs of 12 batches),
/// the reference that killed, stopped and resumed runs must end as, bit for bit.
/// </summary>
public sealed class TinyReferenceRun : IDisposable
{
    public static readonly string[] Arguments =
    {
        "train", "--model", "resnet20", "--part", "4", "--train-limit", "192", "--test-limit", "64",
        "--batch-size", "16", "--epochs", "3", "--seed", "3", "--threads", "1",
    };

    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private readonly TempDirectory directory = new();

    public TinyReferenceRun()
    {
        Result = CliProcess.Run(Timeout, With("--out", Directory));
    }

    public static string[] With(params string[] more) => Arguments.Concat(more).ToArray();

    public string Directory => Path.Combine(directory.Path, "run");
    public (int ExitCode, string Output, string Error) Result { get; }

    public void Dispose() => directory.Dispose();
}

public class TrainResumeCommandTests(TinyReferenceRun reference) : IClassFixture<TinyReferenceRun>
{
    private static readonly TimeSpan Timeout = TinyReferenceRun.Timeout;

    /// <summary>One line on stderr, starting "error: ", with no stack trace.</summary>
    private static void AssertOneLineError((int ExitCode, string Output, string Error) r, params string[] parts)
    {
        Assert.True(r.ExitCode == 2, $"exit code {r.ExitCode}\n{r.Output}\n{r.Error}");
        string error = r.Error.TrimEnd();
        Assert.StartsWith("error: ", error);
        Assert.DoesNotContain('\n', error);
        foreach (var part in parts) Assert.Contains(part, error);
    }

    /// <summary>Same history, generators and bit-for-bit parameters and buffers in the two runs' last checkpoints.</summary>
    private static void AssertSameRun(string expectedRun, string actualRun, string what)
    {
        string expectedPath = Path.Combine(expectedRun, Trainer.LastCheckpoint), actualPath = Path.Combine(actualRun, Trainer.LastCheckpoint);
        var expected = Checkpoint.ReadState(expectedPath);
        var actual = Checkpoint.ReadState(actualPath);
        Assert.Equal(3, expected.EpochsDone);
        Assert.Equal(expected.History.Select(m => (m.Epoch, m.LearningRate, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)),
            actual.History.Select(m => (m.Epoch, m.LearningRate, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)));
        Assert.Equal(expected.TorchRandomState, actual.TorchRandomState);
        Assert.Equal(expected.DataRandomState, actual.DataRandomState);
        using var a = ModelFactories.Zoo(expected.Options, 1, 10);
        using var b = ModelFactories.Zoo(actual.Options, 1, 10);
        Checkpoint.Restore(expectedPath, a);
        Checkpoint.Restore(actualPath, b);
        var actualTensors = b.state_dict();
        Assert.NotEmpty(actualTensors);
        foreach (var (name, tensor) in a.state_dict())
            Assert.True(tensor.equal(actualTensors[name]).all().item<bool>(), $"{what}: {name} differs from the uninterrupted run's");
    }

    [Fact]
    public void Killed_during_a_checkpoint_write_and_at_random_moments_then_resumed_ends_bit_for_bit_as_the_uninterrupted_run()
    {
        // Epoch 1 once, then two copies go on to 3 epochs: one uninterrupted, one killed many times. (Two separate
        // fresh runs need not agree bit for bit: each measures which HetConv kernels are fastest in epoch 1, and
        // under load the choice can differ; a resumed run adopts its checkpoint's choices.)
        using var dir = new TempDirectory();
        string whole = dir.File("whole"), run = dir.File("killed");
        var oneEpoch = TinyReferenceRun.With("--out", whole);
        oneEpoch[Array.IndexOf(oneEpoch, "--epochs") + 1] = "1";
        var first = CliProcess.Run(Timeout, oneEpoch);
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Directory.CreateDirectory(run);
        foreach (var file in Directory.GetFiles(whole))
            File.Copy(file, Path.Combine(run, Path.GetFileName(file)));
        var uninterrupted = CliProcess.Run(Timeout, "train", "--resume", whole, "--epochs", "3");
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Output + uninterrupted.Error);

        var fault = new Dictionary<string, string> { ["HETCONV_WRITE_FAULT"] = $"{Trainer.LastCheckpoint}:1:pause" };
        using (var child = new CliProcess(fault, "train", "--resume", run, "--epochs", "3"))
        {
            // The writer stops 4 KiB into epoch 2's checkpoint and waits there to be killed.
            string temporary = Path.Combine(run, Trainer.LastCheckpoint + ".tmp");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(temporary) && new FileInfo(temporary).Length >= 4096))
            {
                Assert.False(child.HasExited, child.Output + child.Error);
                Assert.True(clock.Elapsed < Timeout, "epoch 2's checkpoint write never began");
                Thread.Sleep(20);
            }
            child.Kill();
        }
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(run, Trainer.LastCheckpoint)).EpochsDone);

        var random = new Random(11);
        var kills = new List<double>();
        for (int i = 0; i < 4 && Checkpoint.ReadState(Path.Combine(run, Trainer.LastCheckpoint)).EpochsDone < 3; i++)
        {
            double seconds = 1 + 5 * random.NextDouble();
            kills.Add(seconds);
            using var child = new CliProcess("train", "--resume", run, "--epochs", "3");
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            child.Kill();
        }
        if (Checkpoint.ReadState(Path.Combine(run, Trainer.LastCheckpoint)).EpochsDone < 3)
        {
            var resumed = CliProcess.Run(Timeout, "train", "--resume", run, "--epochs", "3");
            Assert.True(resumed.ExitCode == 0, resumed.Output + resumed.Error);
        }
        AssertSameRun(whole, run, $"killed in a checkpoint write, then after {string.Join(", ", kills.Select(s => $"{s:F1}"))} s of resumed runs");
    }

    [Fact]
    public void A_full_disk_during_a_checkpoint_write_is_a_clear_error_that_keeps_the_previous_checkpoint()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var fault = new Dictionary<string, string> { ["HETCONV_WRITE_FAULT"] = $"{Trainer.LastCheckpoint}:2:full" };
        using var child = new CliProcess(fault, TinyReferenceRun.With("--out", run));
        int code = child.WaitForExit(Timeout);
        AssertOneLineError((code, child.Output, child.Error), Path.Combine(run, Trainer.LastCheckpoint), "No space left on device",
            "epoch 1", $"--resume {run}");
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(run, Trainer.LastCheckpoint)).EpochsDone);
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
    }

    [Fact]
    public void A_huge_learning_rate_ends_cleanly_without_a_temporary_file()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var r = CliProcess.Run(TimeSpan.FromMinutes(5), "train", "--lr", "50", "--schedule", "constant", "--epochs", "3",
            "--train-limit", "512", "--test-limit", "256", "--threads", "1", "--out", run);
        Assert.DoesNotContain("   at ", r.Error);
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
        if (r.ExitCode == 2)
        {
            AssertOneLineError(r, "the loss became");   // the training loss itself overflowed: stopped before the step
            return;
        }
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Equal(3, Checkpoint.ReadState(Path.Combine(run, Trainer.LastCheckpoint)).EpochsDone);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, Trainer.SummaryFile)));
        var loss = summary.RootElement.GetProperty("final_test_loss");
        Assert.True(loss.ValueKind == JsonValueKind.String ? loss.GetString() is "NaN" or "Infinity" : double.IsFinite(loss.GetDouble()));
    }

    [Fact]
    public void Resume_honours_and_records_epochs_and_a_moved_data_directory_and_refuses_the_run_defining_options()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run"), before = dir.File("data-before"), after = dir.File("data-after");
        Directory.CreateSymbolicLink(before, DataSets.DefaultDirectory);
        var first = CliProcess.Run(Timeout, "train", "--train-limit", "64", "--test-limit", "32", "--batch-size", "16", "--epochs", "1",
            "--threads", "1", "--data", before, "--out", run);
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Directory.Move(before, after);

        foreach (var (option, value) in new[] { ("--lr", "0.05"), ("--model", "resnet56"), ("--batch-size", "8"), ("--seed", "2"), ("--schedule", "cosine"), ("--out", dir.File("other")) })
            AssertOneLineError(CliProcess.Run(Timeout, "train", "--resume", run, option, value), $"{option} cannot change when resuming", "--epochs, --data, --device, --threads");
        AssertOneLineError(CliProcess.Run(Timeout, "train", "--resume", run), before);
        AssertOneLineError(CliProcess.Run(Timeout, "train", "--resume", Path.Combine(run, Trainer.BestCheckpoint)), "is a file", run);

        var resumed = CliProcess.Run(Timeout, "train", "--resume", Path.Combine(run, Trainer.LastCheckpoint), "--data", after, "--epochs", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Output + resumed.Error);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, Trainer.ConfigFile)));
        Assert.Equal(after, config.RootElement.GetProperty("data_directory").GetString());
        Assert.Equal(2, config.RootElement.GetProperty("epochs").GetInt32());
        var state = Checkpoint.ReadState(Path.Combine(run, Trainer.LastCheckpoint));
        Assert.Equal((2, 2, after), (state.EpochsDone, state.Options.Epochs, state.Options.DataDirectory));
    }

    [Fact]
    public void Ctrl_c_in_the_first_epoch_says_there_is_nothing_to_resume()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        using var child = new CliProcess("train", "--train-limit", "4000", "--test-limit", "32", "--epochs", "1", "--threads", "1", "--out", run);
        child.WaitForLine("Training ", Timeout);
        Thread.Sleep(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain("epoch 1/1", child.Output);
        child.Interrupt();
        Assert.Equal(130, child.WaitForExit(Timeout));
        Assert.Contains("no checkpoint to resume from", child.Error);
        Assert.Contains($"delete {run}", child.Error);
        Assert.DoesNotContain("--resume", child.Error);
        Assert.False(File.Exists(Path.Combine(run, Trainer.LastCheckpoint)));
    }

    [Fact]
    public void A_second_run_into_the_same_new_directory_is_refused_while_the_first_runs()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        using var first = new CliProcess(TinyReferenceRun.With("--out", run));
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(run, RunDirectory.MarkerFile)) || !File.Exists(Path.Combine(run, Trainer.ConfigFile)))
        {
            Assert.False(first.HasExited, first.Output + first.Error);
            Assert.True(clock.Elapsed < Timeout, "the first run never claimed its directory");
            Thread.Sleep(20);
        }
        string config = File.ReadAllText(Path.Combine(run, Trainer.ConfigFile));
        AssertOneLineError(CliProcess.Run(Timeout, "train", "--seed", "9", "--epochs", "1", "--out", run), "already holds a run", $"--resume {run}");
        Assert.Equal(config, File.ReadAllText(Path.Combine(run, Trainer.ConfigFile)));
        Assert.Equal(0, first.WaitForExit(Timeout));
        Assert.Equal(config, File.ReadAllText(Path.Combine(run, Trainer.ConfigFile)));
    }

    [Fact]
    public void A_damaged_checkpoint_is_a_one_line_error_naming_it_for_resume_and_eval()
    {
        Assert.True(reference.Result.ExitCode == 0, reference.Result.Output + reference.Result.Error);
        using var dir = new TempDirectory();
        string run = dir.File("run");
        Directory.CreateDirectory(run);
        foreach (var file in Directory.GetFiles(reference.Directory))
            File.Copy(file, Path.Combine(run, Path.GetFileName(file)));
        string last = Path.Combine(run, Trainer.LastCheckpoint);
        var bytes = File.ReadAllBytes(last);
        bytes[bytes.Length * 2 / 3] ^= 0x04;   // inside the weights
        File.WriteAllBytes(last, bytes);

        AssertOneLineError(CliProcess.Run(Timeout, "train", "--resume", run, "--epochs", "4"), last, "checksum");
        AssertOneLineError(CliProcess.Run(Timeout, "eval", "--checkpoint", last, "--limit", "10"), last, "checksum");
        Assert.Equal(bytes, File.ReadAllBytes(last));
    }
}
