using HetConv.Runtime;

namespace HetConv.Tests.Runtime;

public class CpuBudgetTests
{
    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1", 2)]
    [InlineData("0-3,8,10-11", 7)]
    [InlineData(" 2-5\n", 4)]
    public void A_cpu_list_counts_every_cpu_in_its_ranges(string list, int cpus) =>
        Assert.Equal(cpus, CpuBudget.ParseCpuList(list));

    [Theory]
    [InlineData("3-1")]
    [InlineData("a-b")]
    [InlineData("0,x")]
    public void A_malformed_cpu_list_is_rejected(string list) =>
        Assert.Throws<FormatException>(() => CpuBudget.ParseCpuList(list));

    [Theory]
    [InlineData("max 100000\n", null)]
    [InlineData("150000 100000\n", 1.5)]
    [InlineData("200000 50000", 4.0)]
    [InlineData("50000 100000", 0.5)]
    public void Cgroup_v2_cpu_max_gives_cpus_worth_of_time(string text, double? cpus) =>
        Assert.Equal(cpus, CpuBudget.ParseCpuMax(text));

    [Theory]
    [InlineData("-1\n", "100000\n", null)]
    [InlineData("250000\n", "100000\n", 2.5)]
    public void Cgroup_v1_quota_and_period_give_cpus_worth_of_time(string quota, string period, double? cpus) =>
        Assert.Equal(cpus, CpuBudget.ParseCfsQuota(quota, period));

    [Theory]
    [InlineData(8, null, 8)]
    [InlineData(8, 2.0, 2)]
    [InlineData(8, 2.5, 3)] // a part of a CPU still runs a thread part of the time
    [InlineData(2, 16.0, 2)] // the affinity mask bounds a generous quota
    [InlineData(4, 0.5, 1)] // at least one thread
    public void Cpus_are_the_affinity_mask_capped_by_the_quota_rounded_up(int affinity, double? quota, int cpus) =>
        Assert.Equal(cpus, new CpuBudget(affinity, quota).Cpus);

    [Fact]
    public void Cgroup_v2_takes_the_tightest_quota_from_the_process_cgroup_up_to_the_root()
    {
        using var dir = new TempDirectory();
        string proc = Fixture(dir, "proc", ("status", "Name:\tx\nCpus_allowed:\tff\nCpus_allowed_list:\t0-7\n"), ("cgroup", "0::/jobs/build\n"));
        string root = Fixture(dir, "cgroup", ("cpu.max", "max 100000\n"), ("jobs/cpu.max", "300000 100000\n"), ("jobs/build/cpu.max", "max 100000\n"));

        var budget = CpuBudget.Read(proc, root);

        Assert.Equal(new CpuBudget(8, 3.0), budget);
        Assert.Equal(3, budget.Cpus);
    }

    [Fact]
    public void Inside_a_container_a_cgroup_path_missing_from_its_view_falls_back_to_the_root()
    {
        using var dir = new TempDirectory();
        string proc = Fixture(dir, "proc", ("status", "Cpus_allowed_list:\t0-15\n"), ("cgroup", "0::/system.slice/docker-1234.scope\n"));
        string root = Fixture(dir, "cgroup", ("cpu.max", "150000 100000\n"));

        Assert.Equal(2, CpuBudget.Read(proc, root).Cpus);
    }

    [Fact]
    public void Cgroup_v1_reads_the_cpu_controllers_quota()
    {
        using var dir = new TempDirectory();
        string proc = Fixture(dir, "proc", ("status", "Cpus_allowed_list:\t0-3\n"),
            ("cgroup", "5:memory:/ci\n4:cpu,cpuacct:/ci\n0::/\n"));
        string root = Fixture(dir, "cgroup", ("cpu,cpuacct/cpu.cfs_quota_us", "-1\n"), ("cpu,cpuacct/cpu.cfs_period_us", "100000\n"),
            ("cpu,cpuacct/ci/cpu.cfs_quota_us", "100000\n"), ("cpu,cpuacct/ci/cpu.cfs_period_us", "100000\n"));

        Assert.Equal(new CpuBudget(4, 1.0), CpuBudget.Read(proc, root));
    }

    [Fact]
    public void Without_a_quota_the_affinity_mask_decides()
    {
        using var dir = new TempDirectory();
        string proc = Fixture(dir, "proc", ("status", "Cpus_allowed_list:\t0,2,4\n"), ("cgroup", "0::/\n"));
        string root = Fixture(dir, "cgroup", ("cpu.max", "max 100000\n"));

        Assert.Equal(new CpuBudget(3, null), CpuBudget.Read(proc, root));
    }

    [ProcessorCountFact]
    public void This_process_agrees_with_dotnets_processor_count() =>
        // .NET applies the same two limits (affinity mask, quota rounded up): an independent reading of the same files.
        Assert.Equal(Environment.ProcessorCount, CpuBudget.Current.Cpus);

    private sealed class ProcessorCountFactAttribute : FactAttribute
    {
        public ProcessorCountFactAttribute()
        {
            if (!OperatingSystem.IsLinux()) Skip = "reads Linux's /proc and cgroup files";
            else if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_PROCESSOR_COUNT")))
                Skip = "DOTNET_PROCESSOR_COUNT overrides .NET's processor count";
        }
    }

    private static string Fixture(TempDirectory dir, string name, params (string path, string text)[] files)
    {
        string root = Path.Combine(dir.Path, name);
        foreach (var (path, text) in files)
        {
            string file = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
        }
        return root;
    }
}
