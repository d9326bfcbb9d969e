using HetConv.Tests.Data;

namespace HetConv.Tests.Cli;

/// <summary><c>hetconv data</c> and image-folder errors of <c>hetconv train</c>, run as users run them.</summary>
public class DataCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Reports_classes_counts_sizes_unreadable_files_and_the_pipelines_speed()
    {
        using var dir = new TempDirectory();
        ImageFolders.Write(dir.Path, perClass: 4, bad: true);
        var run = CliProcess.Run(Timeout, "data", "--data", dir.Path, "--image-size", "32", "--throughput", "40", "--batch-size", "8");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains($"train: {Path.Combine(dir.Path, "train")}: 13 images in 3 classes", run.Output);
        Assert.Contains($"val: {Path.Combine(dir.Path, "val")}: 9 images in 3 classes", run.Output);
        Assert.Contains("sizes 20x20 to 160x120", run.Output);
        Assert.Contains("unreadable: 1", run.Output);
        Assert.Contains(Path.Combine(dir.Path, "train", "Dog", "fake.png") + ": is not an image", run.Output);
        Assert.Contains(Path.Combine(dir.Path, "train", "cat", "notes.txt"), run.Output);
        Assert.Matches(@"pipeline alone: [0-9.]+ images/s \([0-9]+ images, 32x32 RandomResizedCrop \+ flip", run.Output);
    }

    [Fact]
    public void Folder_faults_are_one_line_errors_with_exit_code_2()
    {
        using var dir = new TempDirectory();
        ImageFolders.Write(dir.Path, perClass: 2, bad: true);
        using var run = new TempDirectory();

        var bad = CliProcess.Run(Timeout, "train", "--data", dir.Path, "--image-size", "16", "--epochs", "1", "--out", run.File("a"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains(Path.Combine(dir.Path, "train", "Dog", "fake.png"), bad.Error);
        Assert.Contains("--bad-images skip", bad.Error);
        Assert.Single(bad.Error.Trim().Split('\n'));

        Directory.CreateDirectory(Path.Combine(dir.Path, "val", "zebra"));
        var stray = CliProcess.Run(Timeout, "train", "--data", dir.Path, "--bad-images", "skip", "--epochs", "1", "--out", run.File("b"));
        Assert.Equal(2, stray.ExitCode);
        Assert.Contains("zebra: is a class that train/ does not have", stray.Error);
        Assert.Single(stray.Error.Trim().Split('\n'));

        using var empty = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(empty.Path, "train"));
        var none = CliProcess.Run(Timeout, "data", "--data", empty.Path);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("holds no class folders", none.Error);
        Assert.Single(none.Error.Trim().Split('\n'));
    }
}
