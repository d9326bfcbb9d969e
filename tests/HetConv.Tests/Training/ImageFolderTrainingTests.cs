using HetConv.Data;
using HetConv.Tests.Data;
using HetConv.Training;
using static TorchSharp.torch;

namespace HetConv.Tests.Training;

/// <summary>Training and evaluating <see cref="TinyNet"/> on generated image folders, streamed.</summary>
[Collection(nameof(ProcessWideState))]
public class ImageFolderTrainingTests
{
    private static TrainingOptions Options(string root, BadImagePolicy policy = BadImagePolicy.Fail) => new()
    {
        Model = "tiny",
        Conv = null,
        Part = null,
        DataSet = DataSets.Name(DataSetKind.ImageFolder),
        DataDirectory = root,
        ImageSize = 24,
        BadImages = policy,
        Epochs = 3,
        BatchSize = 4,   // 6 batches an epoch
        Schedule = new LearningRateSchedule { Kind = ScheduleKind.OneCycle, LearningRate = 0.05, WarmupFraction = 0.2 },
        Seed = 7,
    };

    private static (IImageSource Train, IImageSource Test) Open(TrainingOptions options) =>
        (DataSets.Open(DataSetKind.ImageFolder, options.DataDirectory, DataSplit.Train, options.FolderSettings(2)),
         DataSets.Open(DataSetKind.ImageFolder, options.DataDirectory, DataSplit.Test, options.FolderSettings(2)));

    private sealed class StopAt(int epoch, int batch, CancellationTokenSource cancel) : ITrainingObserver
    {
        public void BatchDone(int e, int b, int batches, double loss, double accuracy, double imagesPerSecond)
        {
            if (e == epoch && b == batch) cancel.Cancel();
        }
    }

    [Fact]
    public void A_run_stopped_mid_epoch_and_resumed_ends_bit_for_bit_as_the_uninterrupted_run_and_evaluates()
    {
        using var data = new TempDirectory();
        ImageFolders.Write(data.Path, perClass: 8);
        var options = Options(data.Path);
        using var whole = new TempDirectory();
        using var stopped = new TempDirectory();

        var (train, test) = Open(options);
        var summary = new Trainer(TinyNet.Factory).Train(options, train, test, whole.Path);
        Assert.Equal(24, summary.TrainImages);
        Assert.Equal(9, summary.TestImages);
        Assert.Equal(0, summary.SkippedImages);

        using (var cancel = new CancellationTokenSource())
        {
            (train, test) = Open(options);
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer(TinyNet.Factory, new StopAt(2, 3, cancel)).Train(options, train, test, stopped.Path, cancel.Token));
        }
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(stopped.Path, Trainer.LastCheckpoint)).EpochsDone);
        (train, test) = Open(options);
        new Trainer(TinyNet.Factory).Resume(stopped.Path, train, test);

        string expectedPath = Path.Combine(whole.Path, Trainer.LastCheckpoint), actualPath = Path.Combine(stopped.Path, Trainer.LastCheckpoint);
        var expected = Checkpoint.ReadState(expectedPath);
        var actual = Checkpoint.ReadState(actualPath);
        Assert.Equal(3, actual.EpochsDone);
        Assert.Equal(expected.History.Select(m => (m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)),
            actual.History.Select(m => (m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)));
        Assert.Equal(expected.DataRandomState, actual.DataRandomState);
        Assert.Equal(expected.Normalization.Mean, actual.Normalization.Mean);
        Assert.Equal(expected.Normalization.Std, actual.Normalization.Std);
        Assert.Equal(new[] { "Dog", "bird", "cat" }, actual.ClassNames);
        Assert.Equal((3, 24, 24), (actual.InChannels, actual.Height, actual.Width));
        using var a = new TinyNet(3, 3);
        using var b = new TinyNet(3, 3);
        Checkpoint.Restore(expectedPath, a);
        Checkpoint.Restore(actualPath, b);
        var actualTensors = b.state_dict();
        foreach (var (name, tensor) in a.state_dict())
            Assert.True(tensor.equal(actualTensors[name]).all().item<bool>(), $"{name} differs from the uninterrupted run's");

        // The estimate is of the images: red, green and blue classes average well above black and below white.
        Assert.All(actual.Normalization.Mean, m => Assert.InRange(m, 0.2f, 0.7f));
        Assert.All(actual.Normalization.Std, s => Assert.InRange(s, 0.05f, 0.5f));

        using var results = new TempDirectory();
        var report = Evaluator.Run(new EvaluationRequest { Checkpoint = actualPath, OutDirectory = results.Path }, TinyNet.Factory);
        Assert.Equal(9, report.Images);
        Assert.Equal(new[] { "Dog", "bird", "cat" }, report.ClassAccuracy.Keys);
        Assert.Equal(9, report.Confusion.Sum(row => row.Sum()));
        Assert.Equal(expected.History[^1].TestAccuracy, report.Accuracy, 9);
    }

    [Fact]
    public void Skipped_bad_images_are_counted_and_listed_in_the_run_and_failing_ones_stop_it_by_name()
    {
        using var data = new TempDirectory();
        ImageFolders.Write(data.Path, perClass: 4, bad: true);
        using var run = new TempDirectory();
        var options = Options(data.Path, BadImagePolicy.Skip) with { Epochs = 1 };
        var (train, test) = Open(options);
        var summary = new Trainer(TinyNet.Factory).Train(options, train, test, run.Path);
        Assert.Equal(2, summary.SkippedImages);
        var listed = File.ReadAllLines(Path.Combine(run.Path, Trainer.SkippedImagesFile));
        Assert.Equal(2, listed.Length);
        // By ordinal path: "Dog" before "bird".
        Assert.StartsWith(Path.Combine(data.Path, "train", "Dog", "fake.png") + ": is not an image", listed[0]);
        Assert.StartsWith(Path.Combine(data.Path, "train", "bird", "broken.jpg") + ": the image is truncated", listed[1]);

        // Under fail, the cut JPEG (whose header reads) stops the run when its batch is made, naming it.
        File.Delete(Path.Combine(data.Path, "train", "Dog", "fake.png"));
        using var failed = new TempDirectory();
        var strict = options with { BadImages = BadImagePolicy.Fail };
        (train, test) = Open(strict);
        var e = Assert.Throws<DataFormatException>(() => new Trainer(TinyNet.Factory).Train(strict, train, test, failed.Path));
        Assert.StartsWith(Path.Combine(data.Path, "train", "bird", "broken.jpg") + ": the image is truncated", e.Message);
        Assert.Contains("--bad-images skip", e.Message);
    }
}
