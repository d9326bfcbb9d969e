using HetConv.Data;
using HetConv.Models;
using HetConv.Tests.Data;
using HetConv.Training;

namespace HetConv.Tests.Cli;

/// <summary>
/// An untrained zoo ResNet-20 (P = 4) saved as a checkpoint beside a small MNIST-format directory of 8x8 images,
/// for the command-line tests of <c>hetconv eval</c> that need a real model without training one. The first ten
/// test labels are 0..8 and 0 again: class 9 is missing from them.
/// </summary>
public sealed class SmallCheckpoint : IDisposable
{
    private readonly TempDirectory directory = new();

    public SmallCheckpoint()
    {
        Data = System.IO.Path.Combine(directory.Path, "data");
        Directory.CreateDirectory(Data);
        byte[] testLabels = Enumerable.Range(0, 30).Select(i => (byte)(i < 10 ? i % 9 : i % 10)).ToArray();
        File.WriteAllBytes(System.IO.Path.Combine(Data, "train-images-idx3-ubyte"), DataFiles.IdxImages(30, 8, 8, DataFiles.Bytes(30 * 64, 1)));
        File.WriteAllBytes(System.IO.Path.Combine(Data, "train-labels-idx1-ubyte"), DataFiles.IdxLabels(DataFiles.Bytes(30, 2, 10)));
        File.WriteAllBytes(System.IO.Path.Combine(Data, "t10k-images-idx3-ubyte"), DataFiles.IdxImages(30, 8, 8, DataFiles.Bytes(30 * 64, 3)));
        File.WriteAllBytes(System.IO.Path.Combine(Data, "t10k-labels-idx1-ubyte"), DataFiles.IdxLabels(testLabels));

        var options = new TrainingOptions { Model = "resnet20", Part = "4", DataSet = "mnist", DataDirectory = Data };
        using var model = ModelZoo.Create("resnet20", ModelZoo.ResolveOptions("resnet20", null, "4", null, false), 10, 1);
        Path = System.IO.Path.Combine(directory.Path, "run", "last.ckpt");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        Checkpoint.Save(Path, State(options), model, null);
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The data directory it was "trained" on.</summary>
    public string Data { get; }

    public string Root => directory.Path;

    public CheckpointState State(TrainingOptions options) => new()
    {
        Options = options,
        EpochsDone = 1,
        DataRandomState = new SeededRandom(1).State,
        TorchRandomState = new byte[] { 1 },
        Normalization = new ChannelNormalization(new[] { 0.5f }, new[] { 0.25f }),
        InChannels = 1,
        Height = 8,
        Width = 8,
        ClassNames = Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        History = new() { new EpochMetrics(1, 0.1, 2, 0.3, 1.5, 0.4, 10, 100, 500) },
    };

    public void Dispose() => directory.Dispose();
}
