using System.Runtime.InteropServices;
using HetConv.Layers.Execution.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Layers.Execution;

/// <summary>What a <see cref="BatchNormNhwcFunction"/> call computes besides the tensors it is given.</summary>
internal sealed record BatchNormCall(BatchNorm2d Module, bool Relu, bool HasResidual, bool ResidualNeedsGrad);

/// <summary>
/// Autograd node for <see cref="TrainingBatchNorm"/>: inputs (x, weight, bias[, residual], call). Forward uses the
/// batch's statistics and updates the module's running ones; backward is BatchNorm's exact gradient, through the
/// ReLU mask of the saved output.
/// </summary>
internal sealed class BatchNormNhwcFunction : torch.autograd.SingleTensorFunction<BatchNormNhwcFunction>
{
    public override string Name => nameof(BatchNormNhwcFunction);

    /// <summary>Per-channel values the backward pass needs, beside the saved input and output.</summary>
    private sealed record Saved(float[] Mean, float[] InvStd, float[] Gamma, BatchNormCall Call);

    public override unsafe Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var call = (BatchNormCall)vars[^1];
        var residual = call.HasResidual ? (Tensor)vars[3] : null;
        var norm = call.Module;
        using var scope = NewDisposeScope();
        int channels = (int)input.shape[1];
        long rows = input.numel() / channels;
        int threads = torch.get_num_threads();
        var x = input.permute(0, 2, 3, 1);   // channels-last input: NHWC memory, no copy

        var sum = new double[channels];
        var squares = new double[channels];
        fixed (byte* px = x.bytes)
        fixed (double* s = sum, q = squares)
            BatchNormNhwcKernel.Statistics((float*)px, rows, channels, s, q, threads);

        double eps = norm.eps, momentum = norm.momentum!.Value;
        var gamma = MemoryMarshal.Cast<byte, float>(norm.weight.bytes).ToArray();
        var beta = MemoryMarshal.Cast<byte, float>(norm.bias!.bytes);
        var mean = new float[channels];
        var invStd = new float[channels];
        var scale = new float[channels];
        var shift = new float[channels];
        // The running statistics are updated in place, as BatchNorm2d does (momentum, unbiased variance); written
        // directly, since a handful of tensor operations per call cost more than this loop on small layers.
        var runningMean = MemoryMarshal.Cast<byte, float>(norm.running_mean!.bytes);
        var runningVariance = MemoryMarshal.Cast<byte, float>(norm.running_var!.bytes);
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / rows;
            double variance = Math.Max(0, squares[c] / rows - m * m);
            double inv = 1 / Math.Sqrt(variance + eps);
            mean[c] = (float)m;
            invStd[c] = (float)inv;
            scale[c] = (float)(gamma[c] * inv);
            shift[c] = (float)(beta[c] - m * gamma[c] * inv);
            runningMean[c] = (float)((1 - momentum) * runningMean[c] + momentum * m);
            runningVariance[c] = (float)((1 - momentum) * runningVariance[c] + momentum * variance * rows / (rows - 1));
        }
        MemoryMarshal.Cast<byte, long>(norm.num_batches_tracked!.bytes)[0]++;

        var output = empty(x.shape, dtype: ScalarType.Float32);
        var residualNhwc = residual?.permute(0, 2, 3, 1).contiguous();
        fixed (byte* px = x.bytes, po = output.bytes, pr = residualNhwc is null ? default : residualNhwc.bytes)
        fixed (float* pScale = scale, pShift = shift)
            BatchNormNhwcKernel.Normalize((float*)px, (float*)pr, (float*)po, pScale, pShift, call.Relu, rows, channels, threads);

        var result = output.permute(0, 3, 1, 2);
        ctx.save_for_backward(new List<Tensor> { input, result });
        ctx.save_data("saved", new Saved(mean, invStd, gamma, call));
        return result.MoveToOuterDisposeScope();
    }

    public override unsafe List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var savedTensors = ctx.get_saved_variables()!;
        var saved = (Saved)ctx.get_data("saved");
        using var scope = NewDisposeScope();
        var x = savedTensors[0].permute(0, 2, 3, 1).contiguous();
        var output = savedTensors[1].permute(0, 2, 3, 1).contiguous();
        var dy = gradOutput.to(ScalarType.Float32).permute(0, 2, 3, 1).contiguous();
        int channels = saved.Mean.Length;
        long rows = x.numel() / channels;
        int threads = torch.get_num_threads();

        var gradSum = new double[channels];
        var gradDot = new double[channels];
        fixed (byte* pdy = dy.bytes, po = output.bytes, px = x.bytes)
        fixed (float* mean = saved.Mean)
        fixed (double* s = gradSum, d = gradDot)
            BatchNormNhwcKernel.BackwardSums((float*)pdy, (float*)po, (float*)px, mean, saved.Call.Relu, rows, channels, s, d, threads);

        // dx = gamma invstd (g - sum(g) / n - (x - mean) invstd^2 sum(g (x - mean)) / n), as BatchNorm's backward.
        var a = new float[channels];
        var b = new float[channels];
        var slope = new float[channels];
        var gradWeight = new float[channels];
        var gradBias = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double inv = saved.InvStd[c], k = saved.Gamma[c] * inv;
            a[c] = (float)k;
            b[c] = (float)(k * gradSum[c] / rows);
            slope[c] = (float)(k * inv * inv * gradDot[c] / rows);
            gradWeight[c] = (float)(gradDot[c] * inv);
            gradBias[c] = (float)gradSum[c];
        }
        var gradInput = empty(x.shape, dtype: ScalarType.Float32);
        var gradResidual = saved.Call.ResidualNeedsGrad ? empty(x.shape, dtype: ScalarType.Float32) : null;
        fixed (byte* pdy = dy.bytes, po = output.bytes, px = x.bytes, pgi = gradInput.bytes,
               pgr = gradResidual is null ? default : gradResidual.bytes)
        fixed (float* mean = saved.Mean, pa = a, pb = b, pd = slope)
            BatchNormNhwcKernel.BackwardInput((float*)pdy, (float*)po, (float*)px, mean, pa, pb, pd, saved.Call.Relu,
                (float*)pgi, (float*)pgr, rows, channels, threads);

        var grads = new List<Tensor> { gradInput.permute(0, 3, 1, 2), torch.tensor(gradWeight), torch.tensor(gradBias) };
        if (saved.Call.HasResidual) grads.Add(gradResidual?.permute(0, 3, 1, 2)!);
        foreach (var grad in grads) grad?.MoveToOuterDisposeScope();
        grads.Add(null!);   // no gradient for the call description
        return grads;
    }
}
