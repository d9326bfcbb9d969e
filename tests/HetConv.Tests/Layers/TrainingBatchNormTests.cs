using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Layers.Execution.Kernels;
using HetConv.Models;
using HetConv.Tests.Layers.Execution;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HetConv.Tests.Layers;

/// <summary>
/// The fused training-mode BatchNorm (+ residual, + ReLU) against libtorch's BatchNorm2d, addition and ReLU run in
/// float64 on the same values: output, running statistics, and the gradients of input, weight, bias and residual.
/// </summary>
public class TrainingBatchNormTests
{
    [Theory]
    [InlineData(16, false, false)]
    [InlineData(16, true, false)]
    [InlineData(16, true, true)]
    [InlineData(13, true, true)]    // channels not a multiple of the SIMD width
    [InlineData(24, false, true)]
    public void Matches_BatchNorm_then_residual_then_ReLU_forward_and_backward(int channels, bool relu, bool withResidual)
    {
        torch.random.manual_seed(channels);
        using var scope = NewDisposeScope();
        var norm = nn.BatchNorm2d(channels);
        norm.train();
        using (no_grad())
        {
            norm.weight.uniform_(0.5, 1.5);
            norm.bias!.uniform_(-0.5, 0.5);
            norm.running_mean!.uniform_(-1, 1);
        }
        var reference = nn.BatchNorm2d(channels);
        reference.load_state_dict(norm.state_dict());
        reference.to(ScalarType.Float64).train();

        var values = (randn(3, channels, 5, 7) * 2 + 0.7).ToChannelsLast();
        var residualValues = withResidual ? randn(3, channels, 5, 7).ToChannelsLast() : null;
        var gradOutput = randn(3, channels, 5, 7);

        var x = values.detach().requires_grad_();
        var residual = residualValues?.detach().requires_grad_();
        Assert.True(TrainingBatchNorm.Supports(norm, x, residual));
        var y = TrainingBatchNorm.Apply(norm, x, residual, relu);
        y.backward(new[] { gradOutput });

        var xRef = values.to(ScalarType.Float64).detach().requires_grad_();
        var residualRef = residualValues?.to(ScalarType.Float64).detach().requires_grad_();
        var yRef = reference.call(xRef);
        if (residualRef is not null) yRef = yRef + residualRef;
        if (relu) yRef = F.relu(yRef);
        yRef.backward(new[] { gradOutput.to(ScalarType.Float64) });

        Assert.True(y.permute(0, 2, 3, 1).is_contiguous(), "the output is channels-last");
        TensorAssert.Close(y, yRef, 1e-4, "output");
        TensorAssert.Close(x.grad!, xRef.grad!, 2e-4, "input gradient");
        TensorAssert.Close(norm.weight.grad!, reference.weight.grad!, 2e-4, "weight gradient");
        TensorAssert.Close(norm.bias!.grad!, reference.bias!.grad!, 2e-4, "bias gradient");
        if (residual is not null) TensorAssert.Close(residual.grad!, residualRef!.grad!, 1e-6, "residual gradient");
        TensorAssert.Close(norm.running_mean!, reference.running_mean!, 1e-5, "running mean");
        TensorAssert.Close(norm.running_var!, reference.running_var!, 1e-5, "running variance");
        Assert.Equal(1, norm.num_batches_tracked!.item<long>());
    }

    /// <summary>
    /// The same at every vector width, forced (a width the CPU lacks runs emulated, exactly): 16 and 32 channels take
    /// AVX-512's vectors whole, 24 hands AVX-512 to AVX2, 13 and 20 leave scalar tails; 105 rows leave an odd row at
    /// the end of the sums. Each case checks that the sweeps ran at the width asked for.
    /// </summary>
    [Theory]
    [MemberData(nameof(WidthCases))]
    public void Every_width_matches_BatchNorm_then_residual_then_ReLU(VectorWidth width, int channels, bool relu, bool withResidual)
    {
        using var forced = KernelIsa.Force(width);
        var ran = width == VectorWidth.Avx512 && channels % 16 != 0 ? VectorWidth.Avx2 : width;
        long before = KernelIsa.Launches(ran);
        Matches_BatchNorm_then_residual_then_ReLU_forward_and_backward(channels, relu, withResidual);
        // Statistics and normalisation forward, the reduction and the update backward.
        Assert.Equal(4, KernelIsa.Launches(ran) - before);
    }

    public static TheoryData<VectorWidth, int, bool, bool> WidthCases()
    {
        var data = new TheoryData<VectorWidth, int, bool, bool>();
        foreach (var width in Enum.GetValues<VectorWidth>())
        {
            data.Add(width, 16, true, true);
            data.Add(width, 32, false, false);
            data.Add(width, 24, true, false);
            data.Add(width, 13, false, true);
            data.Add(width, 20, true, true);
        }
        return data;
    }

    [Fact]
    public void Results_are_the_same_on_every_run()
    {
        // Threads take pieces of the rows as they become free; the sums still add up in one order.
        using var scope = NewDisposeScope();
        var x = randn(8, 16, 16, 16).ToChannelsLast();
        var gradOutput = randn(8, 16, 16, 16);
        (Tensor, Tensor, Tensor) Run()
        {
            var norm = nn.BatchNorm2d(16);
            norm.train();
            var input = x.detach().requires_grad_();
            var y = TrainingBatchNorm.Apply(norm, input, relu: true);
            y.backward(new[] { gradOutput });
            return (y.detach(), input.grad!, norm.weight.grad!);
        }
        var first = Run();
        for (int run = 0; run < 5; run++)
        {
            var again = Run();
            Assert.True(again.Item1.eq(first.Item1).all().item<bool>(), "output");
            Assert.True(again.Item2.eq(first.Item2).all().item<bool>(), "input gradient");
            Assert.True(again.Item3.eq(first.Item3).all().item<bool>(), "weight gradient");
        }
    }

    [Fact]
    public void A_residual_without_gradient_gets_none()
    {
        using var scope = NewDisposeScope();
        var norm = nn.BatchNorm2d(8);
        norm.train();
        var x = randn(2, 8, 4, 4).ToChannelsLast().requires_grad_();
        var residual = randn(2, 8, 4, 4);   // NCHW and constant: read as it is
        var y = TrainingBatchNorm.Apply(norm, x, residual, relu: true);
        y.sum().backward();
        Assert.NotNull(x.grad);
        Assert.Null(residual.grad);
    }

    [Fact]
    public void Applies_only_where_it_computes_what_the_module_would()
    {
        using var scope = NewDisposeScope();
        var norm = nn.BatchNorm2d(8);
        var channelsLast = randn(2, 8, 4, 4).ToChannelsLast();
        norm.train();
        Assert.True(TrainingBatchNorm.Supports(norm, channelsLast));
        Assert.False(TrainingBatchNorm.Supports(norm, randn(2, 8, 4, 4)), "NCHW input");
        Assert.False(TrainingBatchNorm.Supports(norm, channelsLast.to(ScalarType.Float64)), "float64");
        Assert.False(TrainingBatchNorm.Supports(norm, randn(1, 8, 1, 1).ToChannelsLast()), "one value per channel");
        Assert.False(TrainingBatchNorm.Supports(norm, channelsLast, randn(2, 8, 2, 2)), "residual of another shape");
        norm.momentum = null;
        Assert.False(TrainingBatchNorm.Supports(norm, channelsLast), "cumulative average");
        norm.momentum = 0.1;
        norm.eval();
        Assert.False(TrainingBatchNorm.Supports(norm, channelsLast), "evaluation mode");
        Assert.Throws<ArgumentException>(() => TrainingBatchNorm.Apply(norm, channelsLast));
    }

    [Theory]
    [InlineData(ConvKind.Standard)]
    [InlineData(ConvKind.HetConv)]
    public void A_residual_block_trains_the_same_on_channels_last_input_as_on_NCHW(ConvKind kind)
    {
        // NCHW input takes libtorch's BatchNorm, addition and ReLU; channels-last takes the fused nodes. HetConv
        // runs two-branch on the NCHW side (the fused kernel's output is channels-last whatever its input).
        using var scope = NewDisposeScope();
        var options = kind == ConvKind.Standard ? ConvOptions.Standard : ConvOptions.HetConv(4);
        var nchwBlock = new BasicBlock(16, 16, 1, options, downsample: null);
        var clBlock = new BasicBlock(16, 16, 1, options, downsample: null);
        clBlock.load_state_dict(nchwBlock.state_dict());
        nchwBlock.train();
        clBlock.train();
        nchwBlock.UseExecution(HetConvExecutions.TwoBranch);
        clBlock.UseExecution(HetConvExecutions.FusedNhwc);
        var values = randn(4, 16, 6, 6);
        var gradOutput = randn(4, 16, 6, 6);
        var xNchw = values.detach().requires_grad_();
        var xCl = values.ToChannelsLast().requires_grad_();

        var yNchw = nchwBlock.call(xNchw);
        yNchw.backward(new[] { gradOutput });
        Tensor yCl = null!;
        var kernelCalls = FusedKernel.Calls(() =>
        {
            yCl = clBlock.call(xCl);
            yCl.backward(new[] { gradOutput });
        });
        // Both HetConv layers of the channels-last block on the fused kernel, forward and backward, where this CPU has it.
        long expected = kind == ConvKind.HetConv && FusedKernel.IsSupported ? 2 : 0;
        Assert.Equal((expected, expected), kernelCalls);

        TensorAssert.Close(yCl, yNchw, 1e-4, "output");
        TensorAssert.Close(xCl.grad!, xNchw.grad!, 1e-3, "input gradient");
        var nchwParameters = nchwBlock.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in clBlock.named_parameters())
            TensorAssert.Close(parameter.grad!, nchwParameters[name].grad!, 1e-3, $"gradient of {name}");
        var nchwBuffers = nchwBlock.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        // Running statistics are a tenth of batch means of the two sides' convolution outputs, which differ by fp32
        // rounding (different summation orders): the outputs' tolerance, not a tighter one.
        foreach (var (name, buffer) in clBlock.named_buffers())
            TensorAssert.Close(buffer, nchwBuffers[name], 1e-4, name);
    }
}
