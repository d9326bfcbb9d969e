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
}
