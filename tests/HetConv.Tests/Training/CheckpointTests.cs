using HetConv.Data;
using HetConv.Training;
using static TorchSharp.torch;

namespace HetConv.Tests.Training;

public class CheckpointTests
{
    private static CheckpointState State(int epochs) => new()
    {
        Options = new TrainingOptions { Model = "tiny", Epochs = 7 },
        EpochsDone = epochs,
        DataRandomState = new SeededRandom(3).State,
        TorchRandomState = new byte[] { 1, 2, 3 },
        Normalization = new ChannelNormalization(new[] { 0.25f }, new[] { 0.5f }),
        InChannels = 1,
        Height = 28,
        Width = 28,
        ClassNames = new[] { "a", "b" },
        History = new() { new EpochMetrics(1, 0.1, 2, 0.3, 1.5, 0.4, 10, 100, 500) },
    };

    private static (TinyNet Model, optim.Optimizer Optimizer) Trained(long seed)
    {
        random.manual_seed(seed);
        var model = new TinyNet(1, 2);
        var optimizer = optim.SGD(model.parameters(), 0.1, 0.9, weight_decay: 5e-4, nesterov: true);
        using var scope = NewDisposeScope();
        model.train();
        var loss = nn.functional.cross_entropy(model.call(randn(4, 1, 28, 28)), tensor(new long[] { 0, 1, 1, 0 }));
        loss.backward();
        optimizer.step();
        return (model, optimizer);
    }

    [Fact]
    public void Round_trip_keeps_weights_buffers_momentum_and_state()
    {
        using var dir = new TempDirectory();
        var (model, optimizer) = Trained(1);
        var path = dir.File("c.ckpt");
        Checkpoint.Save(path, State(3), model, optimizer);

        var (other, otherOptimizer) = Trained(2);
        var state = Checkpoint.Restore(path, other, otherOptimizer);

        Assert.Equal(3, state.EpochsDone);
        Assert.Equal(new SeededRandom(3).State, state.DataRandomState);
        Assert.Equal(new float[] { 0.25f }, state.Normalization.Mean);
        Assert.Equal(State(3).History, state.History);
        foreach (var ((name, expected), (_, actual)) in model.state_dict().Zip(other.state_dict()))
            Assert.True(expected.equal(actual).all().item<bool>(), $"{name} differs after loading");

        // Same momentum: one more identical step from both keeps the weights identical.
        using var x = randn(4, 1, 28, 28);
        using var y = tensor(new long[] { 1, 1, 0, 0 });
        foreach (var (m, o) in new[] { (model, optimizer), (other, otherOptimizer) })
        {
            o.zero_grad();
            using var scope = NewDisposeScope();
            nn.functional.cross_entropy(m.call(x), y).backward();
            o.step();
        }
        foreach (var ((name, expected), (_, actual)) in model.state_dict().Zip(other.state_dict()))
            TensorAssert.Close(actual, expected, 1e-6, name);
    }

    [Fact]
    public void Truncated_checkpoint_is_a_data_format_error()
    {
        using var dir = new TempDirectory();
        var (model, optimizer) = Trained(1);
        Checkpoint.Save(dir.File("c.ckpt"), State(1), model, optimizer);
        var bytes = File.ReadAllBytes(dir.File("c.ckpt"));
        File.WriteAllBytes(dir.File("cut.ckpt"), bytes[..(bytes.Length / 2)]);
        File.WriteAllBytes(dir.File("head.ckpt"), bytes[..20]);

        Assert.Throws<DataFormatException>(() => Checkpoint.Restore(dir.File("cut.ckpt"), new TinyNet(1, 2)));
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(dir.File("head.ckpt"))).Message);
    }

    [Fact]
    public void Foreign_file_is_named_as_not_a_checkpoint()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("notes.txt"), "hello, this is not a checkpoint");
        var e = Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(dir.File("notes.txt")));
        Assert.Contains("notes.txt", e.Message);
        Assert.Contains("magic number", e.Message);
        Assert.Contains("does not exist", Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(dir.File("absent.ckpt"))).Message);
    }

    [Fact]
    public void Loading_into_another_architecture_names_the_model_it_was_for()
    {
        using var dir = new TempDirectory();
        var (model, optimizer) = Trained(1);
        Checkpoint.Save(dir.File("c.ckpt"), State(1), model, optimizer);
        using var wrong = new TinyNet(1, 5);
        var e = Assert.Throws<DataFormatException>(() => Checkpoint.Restore(dir.File("c.ckpt"), wrong));
        Assert.Contains("cannot be loaded into a tiny", e.Message);
    }

    [Fact]
    public void Saving_replaces_the_file_whole_and_leaves_no_temporary_file()
    {
        using var dir = new TempDirectory();
        var (model, optimizer) = Trained(1);
        Checkpoint.Save(dir.File("c.ckpt"), State(1), model, optimizer);
        Checkpoint.Save(dir.File("c.ckpt"), State(2), model, optimizer);
        Assert.Equal(2, Checkpoint.ReadState(dir.File("c.ckpt")).EpochsDone);
        Assert.Equal(new[] { "c.ckpt" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    /// <summary>A saved checkpoint's bytes with its model data starting after the JSON header.</summary>
    private static (string Path, byte[] Bytes) Saved(TempDirectory dir)
    {
        var (model, optimizer) = Trained(1);
        string path = dir.File("c.ckpt");
        Checkpoint.Save(path, State(1), model, optimizer);
        return (path, File.ReadAllBytes(path));
    }

    public static TheoryData<string> Damages => new() { "flipped bit", "NaN bytes", "truncated", "one byte added" };

    [Theory]
    [MemberData(nameof(Damages))]
    public void Damage_inside_the_tensor_data_is_a_one_line_error_naming_the_file(string damage)
    {
        using var dir = new TempDirectory();
        var (path, bytes) = Saved(dir);
        // Two thirds in: inside the model's tensors (the JSON header is a few hundred bytes of the file's thousands).
        int at = bytes.Length * 2 / 3;
        Assert.True(at > 2000, $"the checkpoint is only {bytes.Length} bytes");
        var damaged = damage switch
        {
            "flipped bit" => bytes.ToArray(),
            "NaN bytes" => bytes.ToArray(),
            "truncated" => bytes[..at],
            _ => bytes.Append((byte)0).ToArray(),
        };
        if (damage == "flipped bit") damaged[at] ^= 0x10;
        if (damage == "NaN bytes") BitConverter.GetBytes(float.NaN).CopyTo(damaged, at & ~3);
        Assert.NotEqual(bytes, damaged);
        File.WriteAllBytes(path, damaged);

        foreach (var load in new Action[] { () => Checkpoint.ReadState(path), () => Checkpoint.Restore(path, new TinyNet(1, 2)) })
        {
            var e = Assert.Throws<DataFormatException>(load);
            Assert.StartsWith(path + ":", e.Message);
            Assert.Contains(damage == "truncated" || damage == "one byte added" ? "damaged or truncated" : "checksum", e.Message);
            Assert.DoesNotContain("\n", e.Message);
        }
    }

    [Fact]
    public void A_checkpoint_of_another_format_version_is_refused_by_number()
    {
        using var dir = new TempDirectory();
        var (path, bytes) = Saved(dir);
        BitConverter.GetBytes(1).CopyTo(bytes, 8);   // after the 8-byte magic number
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(path));
        Assert.Contains("checkpoint format 1; this build reads format 2", e.Message);
    }

    [Fact]
    public void Every_byte_is_covered_by_the_checksum()
    {
        using var dir = new TempDirectory();
        var (path, bytes) = Saved(dir);
        var random = new Random(7);
        // A flip in the header, the JSON, the tensors, the optimizer's state or the checksum itself.
        foreach (int at in new[] { 0, 9, 14, 200, bytes.Length / 2, bytes.Length - 40, bytes.Length - 1 }.Concat(Enumerable.Range(0, 8).Select(_ => random.Next(bytes.Length))))
        {
            var damaged = bytes.ToArray();
            damaged[at] ^= 0x01;
            File.WriteAllBytes(path, damaged);
            Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(path));
        }
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_whole_and_no_temporary_file()
    {
        using var dir = new TempDirectory();
        var (path, bytes) = Saved(dir);
        var e = Assert.Throws<IOException>(() => HetConv.Files.AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[5000]);
            throw new IOException("No space left on device");
        }));
        Assert.Contains(path, e.Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(new[] { "c.ckpt" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Non_finite_metrics_are_written_and_read_back()
    {
        using var dir = new TempDirectory();
        var (model, optimizer) = Trained(1);
        var history = new List<EpochMetrics> { new(1, 50, double.PositiveInfinity, 0.1, double.NaN, 0.1, 1, 2, 3), new(2, 50, 1e300, 0.1, double.NegativeInfinity, 0.1, 1, 2, 3) };
        var state = State(2) with { History = history };
        Checkpoint.Save(dir.File("c.ckpt"), state, model, optimizer);
        Assert.Equal(history, Checkpoint.ReadState(dir.File("c.ckpt")).History);

        HetConv.Training.MetricsCsv.Write(dir.File("m.csv"), history);
        Assert.Equal(history.Select(m => (m.TrainLoss, m.TestLoss)), MetricsCsv.Read(dir.File("m.csv")).Select(m => (m.TrainLoss, m.TestLoss)));

        string json = System.Text.Json.JsonSerializer.Serialize(history[0], TrainingOptions.Json);
        Assert.Contains("\"test_loss\": \"NaN\"", json);
        Assert.Contains("\"train_loss\": \"Infinity\"", json);
    }
}
