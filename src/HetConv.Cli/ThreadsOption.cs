using System.CommandLine;
using HetConv.Runtime;
using static TorchSharp.torch;

namespace HetConv.Cli;

/// <summary>
/// <c>--threads N</c>: libtorch's CPU threads, 1 up to the CPUs this process may use (<see cref="CpuBudget"/>: its
/// affinity mask and CPU quota, also the default): more threads than CPUs only wait for each other. One thread is
/// faster than two when other processes keep every core busy, so busy machines and parallel jobs may want it.
/// </summary>
internal static class ThreadsOption
{
    public static Option<int?> Create() => new("--threads")
    {
        Description = $"CPU threads for libtorch, 1..{CpuBudget.Current.Cpus} (the CPUs this process may use; default: one per core)",
    };

    public static void Apply(ParseResult result, Option<int?> option)
    {
        if (result.GetValue(option) is not { } threads) return;
        int cpus = CpuBudget.Current.Cpus;
        if (threads < 1 || threads > cpus)
            throw new CliUsageException($"--threads {threads} is outside 1..{cpus}: this process may use {cpus} CPU{(cpus == 1 ? "" : "s")}.");
        set_num_threads(threads);
    }
}
