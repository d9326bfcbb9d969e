using HetConv.Tests.Data;

namespace HetConv.Tests.Cli;

/// <summary>Bad input on the command line: one line on stderr naming the problem, exit code 2, nothing written.</summary>
public class CommandErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public void Missing_data_directory_names_the_expected_file()
    {
        using var dir = new TempDirectory();
        string absent = Path.Combine(dir.Path, "no-such-data");
        var r = CliProcess.Run(Timeout, "train", "--data", absent, "--out", Path.Combine(dir.Path, "run"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("train-images-idx3-ubyte", r.Error);
        Assert.Contains("does not exist", r.Error);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "run")));
    }

    [Fact]
    public void Corrupt_data_file_is_named_with_what_was_found()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, gzip: false);
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte"), DataFiles.IdxLabels(new byte[] { 1, 12 }));
        var r = CliProcess.Run(Timeout, "train", "--data", dir.Path, "--out", Path.Combine(dir.Path, "run"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("t10k-labels-idx1-ubyte", r.Error);
        Assert.Contains("label 1 is 12", r.Error);
    }

    [Fact]
    public void Resume_without_a_checkpoint_says_so()
    {
        using var dir = new TempDirectory();
        var r = CliProcess.Run(Timeout, "train", "--resume", dir.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("holds no checkpoint", r.Error);
    }

    [Fact]
    public void Eval_of_a_file_that_is_not_a_checkpoint_says_so()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("model.ckpt"), "not really");
        var r = CliProcess.Run(Timeout, "eval", "--checkpoint", dir.File("model.ckpt"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("model.ckpt", r.Error);
        Assert.Contains("not a readable checkpoint", r.Error);
    }

    [Theory]
    [InlineData("--model", "resnet21", "unknown model 'resnet21'")]
    [InlineData("--schedule", "sometimes", "unknown schedule 'sometimes'")]
    [InlineData("--epochs", "0", "epochs must be >= 1")]
    [InlineData("--part", "3", "divide in_channels M = 16")]
    public void Bad_training_options_are_named(string option, string value, string expected)
    {
        using var dir = new TempDirectory();
        var r = CliProcess.Run(Timeout, "train", option, value, "--out", Path.Combine(dir.Path, "run"));
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Error);
        Assert.Contains(expected, r.Error);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "run")));
    }
}
