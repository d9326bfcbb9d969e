using System.CommandLine;
using static TorchSharp.torch;

namespace HetConv.Cli;

/// <summary>
/// <c>--threads N</c>: libtorch's CPU threads, 1 up to the CPUs this process may run on (its affinity mask, which
/// <see cref="Environment.ProcessorCount"/> respects): more threads than CPUs only wait for each other. One thread
/// is much faster than two when other processes keep the cores busy, so busy machines and parallel jobs may want it.
/// </summary>
internal static class ThreadsOption
{
    public static Option<int?> Create() => new("--threads")
    {
        Description = $"CPU threads for libtorch, 1..{Environment.ProcessorCount} (the CPUs this process may use; default: one per core)",
    };

    public static void Apply(ParseResult result, Option<int?> option)
    {
        if (result.GetValue(option) is not { } threads) return;
        int cpus = Environment.ProcessorCount;
        if (threads < 1 || threads > cpus)
            throw new CliUsageException($"--threads {threads} is outside 1..{cpus}: this process may use {cpus} CPU{(cpus == 1 ? "" : "s")}.");
        set_num_threads(threads);
    }
}
