using System.Text.Json;
using HetConv.Models;
using HetConv.Tests.Training;
using HetConv.Training;

namespace HetConv.Tests.Cli;

/// <summary>
/// <c>hetconv eval</c> on a small checkpoint: results that JSON cannot hold as numbers are written as "NaN" or "Infinity"; a bad
/// <c>--out</c> is refused before any work; a checkpoint whose tensors do not fit its model is named clearly.
/// </summary>
public class EvalFaultTests(SmallCheckpoint checkpoint) : IClassFixture<SmallCheckpoint>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private (int ExitCode, string Output, string Error) Eval(string[] prefix, params string[] args) =>
        CliProcess.RunUnder(prefix, Timeout, new[] { "eval", "--checkpoint", checkpoint.Path, "--threads", "1" }.Concat(args).ToArray());

    [Fact]
    public void A_subset_missing_a_class_writes_eval_json_with_nan_for_that_class()
    {
        using var dir = new TempDirectory();
        var r = Eval([], "--limit", "10", "--out", dir.Path);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        using var json = JsonDocument.Parse(File.ReadAllText(dir.File(Evaluator.ResultFile)));
        var perClass = json.RootElement.GetProperty("class_accuracy");
        Assert.Equal("NaN", perClass.GetProperty("9").GetString());
        foreach (int c in Enumerable.Range(0, 9))
            Assert.InRange(perClass.GetProperty($"{c}").GetDouble(), 0, 1);
        var confusion = json.RootElement.GetProperty("confusion").EnumerateArray().Select(row => row.EnumerateArray().Sum(v => v.GetInt64())).ToArray();
        Assert.Equal(new long[] { 2, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, confusion);
        Assert.Equal(10, json.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(new[] { Evaluator.ConfusionPlot, Evaluator.ResultFile }, Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("", "the output directory is an empty path")]
    [InlineData("existing-file", "is a file, not a directory")]
    [InlineData("existing-file/sub", "cannot be a directory:")]
    [InlineData("/proc/hetconv-eval", "/proc/hetconv-eval cannot be written: no new file can be made in /proc")]
    public void A_bad_out_is_refused_before_any_work(string output, string expected)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("existing-file"), "keep");
        string path = output.StartsWith("existing-file", StringComparison.Ordinal) ? dir.File(output) : output;
        var r = Eval([], "--out", path);
        UsageErrorTests.AssertOneLineError(r, expected);
        Assert.DoesNotContain("accuracy", r.Output);
        Assert.Equal("keep", File.ReadAllText(dir.File("existing-file")));
    }

    [Fact]
    public void An_out_under_a_read_only_mount_is_refused_before_any_work()
    {
        using var dir = new TempDirectory();
        string mount = dir.File("read-only");
        Directory.CreateDirectory(mount);
        // A private mount namespace: the read-only tmpfs exists for the command alone and goes with it.
        string[] prefix = ["unshare", "--mount", "--map-root-user", "sh", "-c", "mount -t tmpfs -o ro tmpfs \"$0\" && exec \"$@\"", mount];
        var r = Eval(prefix, "--out", Path.Combine(mount, "results"));
        UsageErrorTests.AssertOneLineError(r, $"{mount}/results cannot be written: no new file can be made in {mount} (Read-only file system");
        Assert.DoesNotContain("accuracy", r.Output);
    }

    [Fact]
    public void Tensors_that_do_not_fit_the_model_name_its_convolution()
    {
        using var dir = new TempDirectory();
        string path = dir.File("other.ckpt");
        using (var other = new TinyNet(1, 10))
            Checkpoint.Save(path, checkpoint.State(new HetConv.Training.TrainingOptions { Model = "resnet20", Part = "4", DataSet = "mnist", DataDirectory = checkpoint.Data }), other, null);
        var r = CliProcess.Run(Timeout, "eval", "--checkpoint", path, "--out", dir.Path);
        UsageErrorTests.AssertOneLineError(r, "other.ckpt: cannot be loaded into a resnet20 P4: ");
        Assert.DoesNotContain("(conv ,", r.Error);
    }
}
