using static TorchSharp.torch;

namespace HetConv.Benchmarking;

/// <summary>
/// Channels-last (NHWC memory, NCHW shape) tensors. TorchSharp 0.107 has no memory-format argument, but a
/// permute-contiguous-permute gives the same strides, and convolutions keep the layout of their input.
/// </summary>
public static class ChannelsLast
{
    public static Tensor ToChannelsLast(this Tensor nchw) => nchw.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
