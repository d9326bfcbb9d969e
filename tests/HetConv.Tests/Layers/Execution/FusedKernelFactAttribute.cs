using HetConv.Layers.Execution.Kernels;

namespace HetConv.Tests.Layers.Execution;

/// <summary>A test of the fused NHWC kernel, reported as skipped, with the reason, on a CPU that cannot run it.</summary>
public sealed class FusedKernelFactAttribute : FactAttribute
{
    public FusedKernelFactAttribute()
    {
        if (!HetConvNhwcKernel.IsSupportedOnThisMachine)
            Skip = "the fused NHWC kernel needs AVX2 + FMA, which this CPU lacks";
    }
}

/// <summary><see cref="FusedKernelFactAttribute"/> for a theory.</summary>
public sealed class FusedKernelTheoryAttribute : TheoryAttribute
{
    public FusedKernelTheoryAttribute()
    {
        if (!HetConvNhwcKernel.IsSupportedOnThisMachine)
            Skip = "the fused NHWC kernel needs AVX2 + FMA, which this CPU lacks";
    }
}
