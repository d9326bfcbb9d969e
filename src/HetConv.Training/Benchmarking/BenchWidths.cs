using HetConv.Layers.Execution;
using HetConv.Layers.Execution.Kernels;

namespace HetConv.Benchmarking;

/// <summary>
/// The vector widths a benchmark times the hand-written kernels at. The <c>fused-nhwc</c> strategy becomes one
/// candidate per width, named <c>fused-nhwc@avx512</c> and so on, each run with its width forced
/// (<see cref="KernelIsa.Force"/>), so that widths are timed side by side, interleaved, in one run; libtorch's
/// strategies run at whatever width libtorch picks.
/// </summary>
public static class BenchWidths
{
    /// <summary>What the candidates of a strategy not run by the hand-written kernels are labelled with.</summary>
    public const string Libtorch = "libtorch";

    /// <summary>
    /// The candidates of <paramref name="execution"/>: (name suffix, width to force). <paramref name="widths"/> null
    /// or empty means the width <see cref="KernelIsa"/> chooses now.
    /// </summary>
    public static IEnumerable<(string Suffix, VectorWidth? Width)> Of(IHetConvExecution? execution, IReadOnlyList<VectorWidth>? widths)
    {
        if (execution != HetConvExecutions.FusedNhwc)
        {
            yield return ("", null);
            yield break;
        }
        foreach (var width in widths is { Count: > 0 } ? widths : new[] { KernelIsa.Current })
            yield return ($"@{KernelIsa.Name(width)}", width);
    }

    /// <summary><paramref name="run"/> with its width forced, when it has one.</summary>
    public static Action Forced(VectorWidth? width, Action run) => width is null ? run : () =>
    {
        using var forced = KernelIsa.Force(width);
        run();
    };

    /// <summary>The width a candidate ran with, from its name (<see cref="Libtorch"/> when it has none).</summary>
    public static string IsaOf(string candidate) =>
        candidate.IndexOf('@') is var at and >= 0 ? candidate[(at + 1)..].Split('/')[0] : Libtorch;

    /// <summary>The CPU and its vector extensions, one line.</summary>
    public static string CpuLine => $"{KernelIsa.CpuModel}; {KernelIsa.VectorExtensions}";
}
