using HetConv.Runtime;

namespace HetConv.Tests.Runtime;

[Collection(nameof(ProcessWideState))]
public class TorchRuntimeTests
{
    [Fact]
    public void Libgomps_spin_count_is_set_before_libtorch_loads_it_unless_the_user_set_one()
    {
        // The test assembly's module initializer calls Initialize before any test touches libtorch.
        bool userChose = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"))
                         || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GOMP_SPINCOUNT"));
        if (OperatingSystem.IsLinux() && !userChose) Assert.Equal(TorchRuntime.SpinCount, TorchRuntime.SpinCountSet);
        else Assert.Null(TorchRuntime.SpinCountSet);
    }

    [DefaultThreadsFact]
    public void Libtorchs_default_thread_count_is_within_the_cpus_the_process_may_use() =>
        Assert.InRange(TorchSharp.torch.get_num_threads(), 1, CpuBudget.Current.Cpus);

    private sealed class DefaultThreadsFactAttribute : FactAttribute
    {
        public DefaultThreadsFactAttribute()
        {
            if (TorchRuntime.ThreadsFromEnvironment) Skip = "OMP_NUM_THREADS or MKL_NUM_THREADS chooses libtorch's thread count";
        }
    }
}
