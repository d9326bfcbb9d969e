using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Layers.Execution.Kernels;

namespace HetConv.Tests.Layers.Execution;

/// <summary>
/// Whether the fused NHWC kernel can run here, and whether it did: under <c>fused-nhwc</c> a layer it does not
/// support is computed by two-branch, which would pass every numeric test in its place.
/// </summary>
internal static class FusedKernel
{
    public static bool IsSupported => HetConvNhwcKernel.IsSupportedOnThisMachine;

    /// <summary>Marks the test skipped, with the reason, where no kernel width runs natively (and none is forced).</summary>
    public static void SkipUnlessSupported() =>
        Skip.IfNot(IsSupported, "the fused NHWC kernel runs on AVX-512, AVX2 + FMA or 128-bit vectors, none of which this CPU accelerates");

    /// <summary>
    /// The documented rule, written out here: float32 on the CPU, the shifted arrangement, P in {1, 2, 4, 8} or a
    /// multiple of 16, on a CPU whose vectors the kernels use (<see cref="KernelIsa"/>).
    /// </summary>
    public static bool Runs(int part, HetConvArrangement arrangement) =>
        IsSupported && arrangement == HetConvArrangement.Shifted && (part is 1 or 2 or 4 or 8 || part % 16 == 0);

    /// <summary>The kernel's forward and backward passes on this thread while <paramref name="action"/> ran.</summary>
    public static (long Forward, long Backward) Calls(Action action)
    {
        long forward = FusedNhwcExecution.ForwardCallsOnThisThread, backward = FusedNhwcExecution.BackwardCallsOnThisThread;
        action();
        return (FusedNhwcExecution.ForwardCallsOnThisThread - forward, FusedNhwcExecution.BackwardCallsOnThisThread - backward);
    }

    /// <summary>Runs <paramref name="compute"/> and asserts the kernel ran forward exactly <paramref name="forward"/> times.</summary>
    public static T Forward<T>(int forward, Func<T> compute, string what = "")
    {
        T result = default!;
        var calls = Calls(() => result = compute());
        Assert.True(calls == (forward, 0), $"fused kernel {what}: expected {forward} forward pass(es), ran {calls}");
        return result;
    }
}
