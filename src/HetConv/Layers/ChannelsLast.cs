using static TorchSharp.torch;

namespace HetConv.Layers;

/// <summary>
/// Channels-last (NHWC memory, NCHW shape) tensors. TorchSharp 0.107 has no memory-format argument, but a
/// permute-contiguous-permute gives the same strides, and convolutions keep the layout of their input. It is the
/// layout oneDNN's convolutions run fastest in here, the fused HetConv kernels' own, and the one
/// <see cref="TrainingBatchNorm"/> works in. A tensor already channels-last comes back as a view of the same memory, without a copy.
/// </summary>
public static class ChannelsLast
{
    public static Tensor ToChannelsLast(this Tensor nchw) => nchw.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
