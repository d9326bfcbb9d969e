using System.Runtime.InteropServices;
using HetConv.Layers.Execution.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Layers.Execution;

/// <summary>
/// The hand-written NHWC kernel (<see cref="HetConvNhwcKernel"/>): KxK and 1x1 kernels in one pass, no channel
/// permutations, only the paper's multiply-adds. Output is channels-last (an NCHW-shaped view of NHWC memory), so
/// a channels-last network passes activations from layer to layer without reorders. Backward is exact, by the
/// kernels of <see cref="FusedHetConvFunction"/>.
/// Needs float32 on the CPU, a vector width the CPU runs (<see cref="KernelIsa"/>: AVX-512, AVX2 + FMA, or 128-bit
/// vectors on Arm64), the shifted arrangement and P in {1, 2, 4, 8} or a multiple of 16;
/// anything else is computed by <see cref="HetConvExecutions.TwoBranch"/>.
/// </summary>
internal sealed class FusedNhwcExecution : IHetConvExecution
{
    public string Name => "fused-nhwc";

    /// <summary>
    /// Forward and backward passes the kernel ran on the calling thread (per thread, so tests running at once do not
    /// see each other's): lets a test tell the kernel from the two-branch fallback it would otherwise pass for.
    /// </summary>
    [ThreadStatic] internal static long ForwardCallsOnThisThread;

    /// <inheritdoc cref="ForwardCallsOnThisThread"/>
    [ThreadStatic] internal static long BackwardCallsOnThisThread;

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

    /// <summary>Without autograd the kernel applies ReLU as it stores; with it, ReLU stays a node of its own.</summary>
    public Tensor ForwardRelu(HetConv2d layer, Tensor input)
    {
        if (layer.NeedsAutograd(input) || !Supports(layer, input)) return nn.functional.relu(Forward(layer, input));
        return Compute(layer, input, relu: true);
    }

    /// <summary>Without autograd the kernel adds the residual and applies ReLU as it stores.</summary>
    public Tensor ForwardAddRelu(HetConv2d layer, Tensor input, Tensor residual)
    {
        if (layer.NeedsAutograd(input) || residual.requires_grad || !Supports(layer, input) || residual.dtype != ScalarType.Float32
            || residual.device_type != DeviceType.CPU)
            return nn.functional.relu(Forward(layer, input).add(residual));
        return Compute(layer, input, relu: true, residual);
    }

    /// <summary>
    /// The forward pass alone, on any input layout; returns a channels-last tensor. With a residual (of the output's
    /// shape, any layout), stores relu(y + residual) when <paramref name="relu"/>, else y + residual.
    /// </summary>
    internal static unsafe Tensor Compute(HetConv2d layer, Tensor input, bool relu = false, Tensor? residual = null)
    {
        ForwardCallsOnThisThread++;
        using var scope = NewDisposeScope();
        // In eval mode the packing is done once; in training the weights change every step.
        using var packed = layer.training ? PackedHetConvWeights.From(layer, torch.get_num_threads()) : CachedPack(layer);
        var nhwc = input.permute(0, 2, 3, 1).contiguous();
        var g = new ConvGeometry((int)input.shape[0], (int)input.shape[2], (int)input.shape[3], layer.InChannels,
            layer.OutChannels, layer.KernelSize, layer.Stride, layer.Padding, layer.Part);
        var output = empty(g.Batch, g.OutHeight, g.OutWidth, g.OutChannels, dtype: ScalarType.Float32);
        if (residual is not null && !residual.shape.SequenceEqual(new long[] { g.Batch, g.OutChannels, g.OutHeight, g.OutWidth }))
            throw new ArgumentException(
                $"The residual must have the output's shape [{g.Batch}, {g.OutChannels}, {g.OutHeight}, {g.OutWidth}]; got [{string.Join(", ", residual.shape)}].",
                nameof(residual));
        var residualNhwc = residual?.permute(0, 2, 3, 1).contiguous();
        fixed (byte* x = nhwc.bytes, y = output.bytes, r = residualNhwc is null ? default : residualNhwc.bytes)
        {
            HetConvNhwcKernel.Forward((float*)x, (float*)y, packed.Centre, packed.OffCentre, packed.Bias, g,
                torch.get_num_threads(), new OutputEpilogue(relu, (float*)r));
        }
        return output.permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>The layer's cached packing, checked (unless trusted) or packed anew; the caller disposes its reference.</summary>
    private static PackedHetConvWeights CachedPack(HetConv2d layer) =>
        layer.DerivedWeights.Get(
            cached => layer.TrustDerivedWeights || cached.PackedFrom(layer),
            () => PackedHetConvWeights.From(layer, torch.get_num_threads(), fingerprint: !layer.TrustDerivedWeights));
}

/// <summary>
/// Autograd node for <see cref="FusedNhwcExecution"/>: inputs (x, kxk_weight, pointwise_weight[, bias], layer).
/// Backward runs on the NHWC kernels: the weight gradient always, the input gradient where it is a HetConv too.
/// </summary>
internal sealed class FusedHetConvFunction : torch.autograd.SingleTensorFunction<FusedHetConvFunction>
{
    public override string Name => nameof(FusedHetConvFunction);

    public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var layer = (HetConv2d)vars[^1];
        ctx.save_for_backward(new List<Tensor> { input });
        ctx.save_data("layer", layer);
        ctx.save_data("input_needs_grad", input.requires_grad);
        return FusedNhwcExecution.Compute(layer, input);
    }

    public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var layer = (HetConv2d)ctx.get_data("layer");
        var input = ctx.get_saved_variables()[0];
        bool inputNeedsGrad = (bool)ctx.get_data("input_needs_grad");
        var grads = Backward(layer, input, gradOutput, inputNeedsGrad);
        grads.Add(null!);   // no gradient for the layer argument
        return grads;
    }

    /// <summary>
    /// The input gradient of a stride-1 layer whose filters cover every residue of P is itself a HetConv; others
    /// (stride 2, P not dividing N) get theirs from libtorch's transposed convolution on the dense weight, the
    /// standard convolution's cost for that one pass.
    /// </summary>
    private static bool InputGradientIsHetConv(HetConv2d layer) =>
        layer.Stride == 1 && layer.OutChannels % layer.Part == 0 && layer.Padding < layer.KernelSize;

    private static unsafe List<Tensor> Backward(HetConv2d layer, Tensor input, Tensor gradOutput, bool inputNeedsGrad)
    {
        FusedNhwcExecution.BackwardCallsOnThisThread++;
        using var scope = NewDisposeScope();
        int threads = torch.get_num_threads();
        var x = input.permute(0, 2, 3, 1).contiguous();
        var dy = gradOutput.to(ScalarType.Float32).permute(0, 2, 3, 1).contiguous();
        var forward = new ConvGeometry((int)input.shape[0], (int)input.shape[2], (int)input.shape[3], layer.InChannels,
            layer.OutChannels, layer.KernelSize, layer.Stride, layer.Padding, layer.Part);

        Tensor? gradInput = null;
        if (inputNeedsGrad && InputGradientIsHetConv(layer))
        {
            // The input gradient of a stride-1 HetConv is a HetConv N -> M with flipped kernels.
            var transposed = forward with
            {
                Height = forward.OutHeight, Width = forward.OutWidth, InChannels = layer.OutChannels,
                OutChannels = layer.InChannels, Padding = layer.KernelSize - 1 - layer.Padding,
            };
            using var packed = PackedHetConvWeights.ForInputGradient(layer, threads);
            var dx = empty(forward.Batch, forward.Height, forward.Width, forward.InChannels, dtype: ScalarType.Float32);
            fixed (byte* g = dy.bytes, o = dx.bytes)
                HetConvNhwcKernel.Forward((float*)g, (float*)o, packed.Centre, packed.OffCentre, packed.Bias, transposed, threads, OutputEpilogue.None);
            gradInput = dx.permute(0, 3, 1, 2);
        }
        else if (inputNeedsGrad)
        {
            using var noGrad = torch.no_grad();
            // Rows and columns the strided forward pass never reached get zero gradient through output_padding.
            long outputPaddingH = forward.Height + 2 * forward.Padding - forward.KernelSize - (forward.OutHeight - 1) * forward.Stride;
            long outputPaddingW = forward.Width + 2 * forward.Padding - forward.KernelSize - (forward.OutWidth - 1) * forward.Stride;
            gradInput = nn.functional.conv_transpose2d(dy.permute(0, 3, 1, 2), layer.DenseWeight().detach(), strides: new long[] { forward.Stride, forward.Stride },
                padding: new long[] { forward.Padding, forward.Padding }, output_padding: new[] { outputPaddingH, outputPaddingW });
        }

        int n = layer.OutChannels, m = layer.InChannels, j = layer.Pattern.KxkPerFilter, k = layer.KernelSize;
        int centreLength = forward.FilterBlocks * m * 16, offLength = forward.FilterBlocks * forward.OffCentreTaps * j * 16;
        using var centre = new AlignedFloats(centreLength, clear: false);
        using var offCentre = new AlignedFloats(offLength, clear: false);
        var kxkGrad = empty(n, j, k, k, dtype: ScalarType.Float32);
        var pointwiseGrad = empty(n, m - j, dtype: ScalarType.Float32);
        fixed (byte* px = x.bytes, g = dy.bytes, kxk = kxkGrad.bytes, pointwise = pointwiseGrad.bytes)
        {
            HetConvNhwcWeightGradient.Compute((float*)px, (float*)g, centre.Pointer, offCentre.Pointer, forward, threads);
            PackedHetConvWeights.Unpack(layer.Pattern, centre.Pointer, offCentre.Pointer, (float*)kxk, (float*)pointwise, threads);
        }
        var grads = new List<Tensor>
        {
            gradInput!,
            kxkGrad.to(layer.KxkWeight.dtype),
            pointwiseGrad.to(layer.PointwiseWeight.dtype),
        };
        if (layer.Bias is not null) grads.Add(gradOutput.sum(new long[] { 0, 2, 3 }).to(layer.Bias.dtype));
        foreach (var grad in grads) grad?.MoveToOuterDisposeScope();
        return grads;
    }
}
