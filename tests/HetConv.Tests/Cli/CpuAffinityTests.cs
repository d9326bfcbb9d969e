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

    [CgroupV1Fact]
    public void Training_in_a_cgroup_with_one_cpus_quota_runs_one_thread_by_default()
    {
        // libtorch's own default ignores the quota (it ran two threads here).
        string cgroup = Path.Combine(CgroupV1Fact.CpuController, "hetconv-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(cgroup);
        try
        {
            File.WriteAllText(Path.Combine(cgroup, "cpu.cfs_period_us"), "100000");
            File.WriteAllText(Path.Combine(cgroup, "cpu.cfs_quota_us"), "100000");
            using var dir = new TempDirectory();
            string run = dir.File("run");
            // The shell moves itself into the cgroup, then runs the command there.
            string[] prefix = ["sh", "-c", $"echo $$ > {cgroup}/tasks && exec \"$0\" \"$@\""];
            var (exitCode, output, error) = CliProcess.RunUnder(prefix, Timeout,
                "train", "--train-limit", "32", "--test-limit", "16", "--batch-size", "16", "--epochs", "1", "--out", run);

            Assert.True(exitCode == 0, output + error);
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, Trainer.SummaryFile)));
            Assert.Equal(1, summary.RootElement.GetProperty("threads").GetInt32());
        }
        finally
        {
            Directory.Delete(cgroup);
        }
    }

    private sealed class CgroupV1FactAttribute : FactAttribute
    {
        public CgroupV1FactAttribute()
        {
            if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists(Path.Combine(CgroupV1Fact.CpuController, "cpu.cfs_quota_us"))
                || Environment.ProcessorCount < 2)
                Skip = "needs root, a cgroup v1 cpu controller at /sys/fs/cgroup/cpu and 2 or more CPUs, to run the command under a quota";
        }
    }

    private static class CgroupV1Fact
    {
        public const string CpuController = "/sys/fs/cgroup/cpu";
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
