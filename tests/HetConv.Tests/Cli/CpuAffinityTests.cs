using System.Text.Json;
using HetConv.Training;

namespace HetConv.Tests.Cli;

/// <summary>
/// libtorch counts the machine's cores for its default thread count, blind to the affinity mask; the command line
/// must use only the CPUs it may run on. Run under <c>taskset -c 0</c>: one CPU allowed.
/// </summary>
public class CpuAffinityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [TasksetFact]
    public void Training_on_one_allowed_cpu_runs_one_thread_by_default()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (exitCode, output, error) = CliProcess.RunUnder(["taskset", "-c", "0"], Timeout,
            "train", "--train-limit", "32", "--test-limit", "16", "--batch-size", "16", "--epochs", "1", "--out", run);

        Assert.True(exitCode == 0, output + error);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, Trainer.SummaryFile)));
        Assert.Equal(1, summary.RootElement.GetProperty("threads").GetInt32());
    }

    [TasksetFact]
    public void More_threads_than_allowed_cpus_is_a_usage_error()
    {
        using var dir = new TempDirectory();
        var (exitCode, _, error) = CliProcess.RunUnder(["taskset", "-c", "0"], Timeout,
            "train", "--train-limit", "32", "--epochs", "1", "--threads", "2", "--out", dir.File("run"));

        Assert.Equal(2, exitCode);
        Assert.Contains("--threads 2 is outside 1..1", error);
    }

    private sealed class TasksetFactAttribute : FactAttribute
    {
        public TasksetFactAttribute()
        {
            if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/taskset"))
                Skip = "needs Linux's taskset (util-linux) to run the command on one CPU";
        }
    }
}
