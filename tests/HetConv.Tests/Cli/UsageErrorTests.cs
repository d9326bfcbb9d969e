namespace HetConv.Tests.Cli;

/// <summary>
/// One exit code for every usage error: a parse error (unknown option or command, a missing or malformed value)
/// exits 2 like a rejected value, with one line on stderr and no stack trace, on every command.
/// </summary>
public class UsageErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    internal static void AssertOneLineError((int ExitCode, string Output, string Error) r, string expected)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}\n{r.Output}\n{r.Error}");
        var lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{r.Error}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    [Theory]
    [InlineData("Unrecognized command or argument '--no-such-option'", "tables", "--no-such-option")]
    [InlineData("Option '--model' is required", "flops")]
    [InlineData("Cannot parse argument 'three'", "train", "--epochs", "three")]
    [InlineData("Argument 'sideways' not recognized", "eval", "--checkpoint", "x.ckpt", "--split", "sideways")]
    [InlineData("Unrecognized command or argument 'trian'", "trian")]
    [InlineData("Required argument missing for option: '--threads'", "eval", "--checkpoint", "x.ckpt", "--threads")]
    [InlineData("Cannot parse argument 'many'", "layer", "--in", "many")]
    [InlineData("Unrecognized command or argument '--bogus'", "bench", "--bogus")]
    public void Parse_errors_exit_2_with_one_line(string expected, params string[] args)
    {
        var r = CliProcess.Run(Timeout, args);
        AssertOneLineError(r, expected);
        Assert.Contains("--help", r.Error);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("eval", "--help")]
    public void Help_names_the_command_as_users_type_it(params string[] args)
    {
        var r = CliProcess.Run(Timeout, args);
        Assert.Equal(0, r.ExitCode);
        string usage = args.Length == 1 ? "hetconv [command] [options]" : "hetconv eval [options]";
        Assert.Contains(usage, r.Output);
        Assert.DoesNotContain("HetConv.Cli", r.Output);
    }

    [Theory]
    [InlineData("100000")]
    [InlineData("0")]
    public void Threads_beyond_the_cpus_this_process_may_use_are_refused(string threads)
    {
        // eval applies --threads before anything else, so the checkpoint need not exist.
        var r = CliProcess.Run(Timeout, "eval", "--checkpoint", "absent.ckpt", "--threads", threads);
        AssertOneLineError(r, $"--threads {threads} is outside 1..{Environment.ProcessorCount}");
    }

    [Fact]
    public void Threads_up_to_the_cpus_are_accepted()
    {
        var r = CliProcess.Run(Timeout, "eval", "--checkpoint", "absent.ckpt", "--threads", $"{Environment.ProcessorCount}");
        AssertOneLineError(r, "absent.ckpt: the checkpoint file does not exist.");
    }

    [Theory]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("bench")]
    public void Every_command_that_runs_a_model_takes_one_device_grammar(string command)
    {
        var help = CliProcess.Run(Timeout, command, "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Matches(@"--device <device>\s+cpu, cuda or cuda:N \[default: cpu\]", help.Output);
    }

    [Theory]
    [InlineData("cuda:0", "libtorch sees no CUDA device")]
    [InlineData("tpu", "unknown device 'tpu'; use cpu, cuda or cuda:N.")]
    public void Bench_reads_devices_as_the_other_commands_do(string device, string expected)
    {
        // This machine's libtorch is the CPU build: a CUDA device is a usage error, named as such.
        var r = CliProcess.Run(Timeout, "bench", "--quick", "--device", device);
        AssertOneLineError(r, expected);
    }

    [Fact]
    public void A_plot_that_cannot_be_written_is_refused_before_timing()
    {
        var r = CliProcess.Run(Timeout, "bench", "--layers", "resnet56", "--only", "stage1", "--quick", "--mode", "inference",
            "--plot", "/proc/hetconv-bench/speedup.png");
        AssertOneLineError(r, "/proc/hetconv-bench cannot be written: no new file can be made in /proc");
        Assert.DoesNotContain("stage1", r.Output);
    }
}
