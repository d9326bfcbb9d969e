using HetConv.Layers.Execution;
using HetConv.Layers.Execution.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Layers;

/// <summary>
/// BatchNorm2d in training mode, with the residual addition and ReLU that follow it in a residual block, as one
/// autograd node over channels-last data: forward is one sweep for the statistics and one for the output, backward
/// one reduction and one update (<see cref="BatchNormNhwcKernel"/>), where libtorch's BatchNorm, addition and
/// ReLU take eight sweeps between them. The result is BatchNorm's (batch statistics, running statistics updated
/// with the module's momentum, <c>num_batches_tracked</c> counted), to float rounding. It serves standard and
/// HetConv networks alike, so comparisons between them stay like for like.
/// The module is not called, so its forward hooks do not fire; <see cref="Supports"/> says when this path applies,
/// and a caller keeps its ordinary modules for everything else (evaluation mode, CUDA, NCHW, other dtypes).
/// </summary>
public static class TrainingBatchNorm
{
    /// <summary>
    /// Whether <see cref="Apply"/> can run <paramref name="norm"/> on <paramref name="input"/>: training mode with
    /// running statistics, affine, a momentum (not the cumulative average), float32 channels-last input on a CPU the
    /// kernels run on (see <see cref="KernelIsa"/>), more than one value per channel, and a residual (if any) of the input's shape.
    /// </summary>
    public static bool Supports(BatchNorm2d norm, Tensor input, Tensor? residual = null) =>
        KernelIsa.KernelsAvailable
        && norm.training && norm.affine && norm.track_running_stats && norm.momentum is not null
        && norm.running_mean is not null && norm.running_var is not null && norm.num_batches_tracked is not null
        && new[] { norm.weight, norm.bias!, norm.running_mean, norm.running_var }.All(t =>
               t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.is_contiguous())
        && norm.num_batches_tracked.dtype == ScalarType.Int64
        && input.dim() == 4 && input.dtype == ScalarType.Float32 && input.device_type == DeviceType.CPU
        && input.shape[1] == norm.num_features && input.numel() / input.shape[1] > 1
        && input.permute(0, 2, 3, 1).is_contiguous()
        && (residual is null || (residual.dtype == ScalarType.Float32 && residual.device_type == DeviceType.CPU
                                 && residual.shape.SequenceEqual(input.shape)));

    /// <summary>
    /// norm(input) (+ residual) (then ReLU), as BatchNorm2d's training-mode forward followed by those operations;
    /// the output is channels-last. Throws when <see cref="Supports"/> is false.
    /// </summary>
    public static Tensor Apply(BatchNorm2d norm, Tensor input, Tensor? residual = null, bool relu = false)
    {
        if (!Supports(norm, input, residual))
            throw new ArgumentException(
                "TrainingBatchNorm runs BatchNorm2d in training mode on float32 channels-last CPU input (see Supports); " +
                "call the module itself otherwise.", nameof(input));
        var call = new BatchNormCall(norm, relu, residual is not null, residual?.requires_grad ?? false);
        return residual is null
            ? BatchNormNhwcFunction.apply(input, norm.weight, norm.bias!, call)
            : BatchNormNhwcFunction.apply(input, norm.weight, norm.bias!, residual, call);
    }
}
