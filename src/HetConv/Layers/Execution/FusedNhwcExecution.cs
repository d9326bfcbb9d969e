using HetConv.Layers.Execution.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Layers.Execution;

/// <summary>
/// The hand-written NHWC kernel (<see cref="HetConvNhwcKernel"/>): KxK and 1x1 kernels in one pass, no channel
/// permutations, only the paper's multiply-adds. Output is channels-last (an NCHW-shaped view of NHWC memory), so
/// a channels-last network passes activations from layer to layer without reorders. Backward is exact, through
/// libtorch: the layer is re-run with the two-branch strategy inside autograd.
/// Needs float32 on the CPU, AVX2 + FMA, the shifted arrangement and P in {1, 2, 4, 8} or a multiple of 16;
/// anything else is computed by <see cref="HetConvExecutions.TwoBranch"/>.
/// </summary>
internal sealed class FusedNhwcExecution : IHetConvExecution
{
    public string Name => "fused-nhwc";

    public bool Supports(HetConv2d layer, Tensor input) =>
        HetConvNhwcKernel.IsSupportedOnThisMachine
        && HetConvNhwcKernel.SupportsPart(layer.Part)
        && layer.Arrangement == HetConvArrangement.Shifted
        && input.device_type == DeviceType.CPU
        && input.dtype == ScalarType.Float32
        && layer.KxkWeight.dtype == ScalarType.Float32;

    public Tensor Forward(HetConv2d layer, Tensor input)
    {
        if (!Supports(layer, input)) return HetConvExecutions.TwoBranch.Forward(layer, input);
        if (layer.Bias is null)
            return FusedHetConvFunction.apply(input, layer.KxkWeight, layer.PointwiseWeight, layer);
        return FusedHetConvFunction.apply(input, layer.KxkWeight, layer.PointwiseWeight, layer.Bias, layer);
    }

    /// <summary>The forward pass alone, on any input layout; returns a channels-last tensor.</summary>
    internal static unsafe Tensor Compute(HetConv2d layer, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var packed = PackedHetConvWeights.From(layer);
        var nhwc = input.permute(0, 2, 3, 1).contiguous();
        var g = new ConvGeometry((int)input.shape[0], (int)input.shape[2], (int)input.shape[3], layer.InChannels,
            layer.OutChannels, layer.KernelSize, layer.Stride, layer.Padding, layer.Part);
        var output = empty(g.Batch, g.OutHeight, g.OutWidth, g.OutChannels, dtype: ScalarType.Float32);
        fixed (byte* x = nhwc.bytes, y = output.bytes, c = packed.Centre.bytes, o = packed.OffCentre.bytes, b = packed.Bias.bytes)
        {
            HetConvNhwcKernel.Forward((float*)x, (float*)y, (float*)c, (float*)o, (float*)b, g, torch.get_num_threads());
        }
        return output.permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}

/// <summary>Autograd node for <see cref="FusedNhwcExecution"/>: inputs (x, kxk_weight, pointwise_weight[, bias], layer).</summary>
internal sealed class FusedHetConvFunction : torch.autograd.SingleTensorFunction<FusedHetConvFunction>
{
    public override string Name => nameof(FusedHetConvFunction);

    public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var layer = (HetConv2d)vars[^1];
        ctx.save_for_backward(new List<Tensor> { input });
        ctx.save_data("layer", layer);
        return FusedNhwcExecution.Compute(layer, input);
    }

    public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var layer = (HetConv2d)ctx.get_data("layer");
        var input = ctx.get_saved_variables()[0];
        using var grad = torch.enable_grad();
        var x = input.detach().requires_grad_(true);
        var parameters = layer.Bias is null
            ? new List<Tensor> { layer.KxkWeight, layer.PointwiseWeight }
            : new List<Tensor> { layer.KxkWeight, layer.PointwiseWeight, layer.Bias };
        var output = HetConvExecutions.TwoBranch.Forward(layer, x);
        var inputs = new List<Tensor> { x };
        inputs.AddRange(parameters);
        var grads = torch.autograd.grad(new List<Tensor> { output }, inputs, new List<Tensor> { gradOutput }, allow_unused: true);
        var result = new List<Tensor>(grads) { null! };   // no gradient for the layer argument
        return result;
    }
}
