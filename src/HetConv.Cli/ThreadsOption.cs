using System.CommandLine;
using static TorchSharp.torch;

namespace HetConv.Cli;

/// <summary>
/// <c>--threads N</c>: libtorch's CPU threads. One thread is much faster than two when other processes keep
/// the cores busy (OpenMP's teams wait for each other), so busy machines and parallel jobs may want it.
/// </summary>
internal static class ThreadsOption
{
    public static Option<int?> Create() => new("--threads") { Description = "CPU threads for libtorch (default: one per core)" };

    public static void Apply(ParseResult result, Option<int?> option)
    {
        if (result.GetValue(option) is not { } threads) return;
        if (threads < 1) throw new CliUsageException($"--threads {threads} must be >= 1.");
        set_num_threads(threads);
    }
}
