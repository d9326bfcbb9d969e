using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HetConv.Tests.Conversion;

public class ReluFusionTests
{
    [Fact]
    public void Fusing_keeps_VGG16s_output_and_takes_the_ReLU_after_every_HetConv_into_the_layer()
    {
        torch.random.manual_seed(3);
        using var model = ModelZoo.Create("vgg16-cifar", ConvOptions.HetConv(4));
        model.eval();
        BatchNormFolding.Fold(model);
        using var x = randn(2, 3, 32, 32);
        using var noGrad = no_grad();
        using var before = model.call(x);
        int relus = model.modules().OfType<ReLU>().Count();

        var fused = ReluFusion.Fuse(model);

        // conv1 stays standard and keeps its ReLU; the 12 HetConv layers take theirs.
        Assert.Equal(12, fused.Count);
        Assert.Equal(relus - 12, model.modules().OfType<ReLU>().Count());
        Assert.All(model.modules().OfType<HetConv2d>(), layer => Assert.True(layer.ReluOutput));
        foreach (var execution in HetConvExecutions.All.Append(HetConvExecutions.Auto))
        {
            model.UseExecution(execution);
            TensorAssert.Close(model.call(x), before, rtol: 1e-4, what: execution.Name);
        }
    }

    [Fact]
    public void Only_a_ReLU_right_after_a_HetConv_is_fused()
    {
        using var model = nn.Sequential(new HetConv2d(4, 8, 3, 2), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU());
        Assert.Empty(ReluFusion.Fuse(model));   // the BatchNorm (not folded: training mode) stands between
        Assert.Equal(2, model.modules().OfType<ReLU>().Count());
    }

    /// <summary>Every strategy honours ReluOutput with and without autograd, the kernel's own clamp included.</summary>
    [Theory]
    [InlineData(16, 24, 3, 4, 1)]
    [InlineData(12, 13, 5, 2, 2)]
    public void A_layer_with_ReluOutput_computes_relu_of_the_dense_reference_forward_and_backward(int m, int n, int k, int p, int stride)
    {
        torch.random.manual_seed(8);
        foreach (var execution in HetConvExecutions.All.Append(HetConvExecutions.Auto))
        {
            using var scope = NewDisposeScope();
            using var layer = new HetConv2d(m, n, k, p, stride, bias: true) { Execution = execution, ReluOutput = true };
            var x = randn(3, m, 9, 10);
            var expected = F.relu(F.conv2d(x.to(ScalarType.Float64), layer.DenseWeight().detach().to(ScalarType.Float64),
                layer.Bias!.detach().to(ScalarType.Float64), new long[] { stride }, new long[] { k / 2 }));
            using (no_grad())
                TensorAssert.Close(layer.call(x), expected, what: $"{execution.Name} without autograd");

            var xg = x.clone().requires_grad_();
            var y = layer.call(xg);
            TensorAssert.Close(y, expected, what: $"{execution.Name} with autograd");
            y.sum().backward();
            // d sum(relu(conv x)) / dx = conv^T(1[y > 0]), checked against the same through a separate ReLU.
            var x64 = x.to(ScalarType.Float64).requires_grad_();
            F.relu(F.conv2d(x64, layer.DenseWeight().detach().to(ScalarType.Float64), layer.Bias!.detach().to(ScalarType.Float64),
                new long[] { stride }, new long[] { k / 2 })).sum().backward();
            TensorAssert.Close(xg.grad!, x64.grad!, what: $"{execution.Name} input gradient");
        }
    }

    /// <summary>The residual epilogue, partial tiles and either residual layout included, against the dense reference.</summary>
    [Theory]
    [InlineData(16, 24, 4, 1, false)]
    [InlineData(12, 13, 2, 1, true)]
    [InlineData(32, 32, 4, 2, true)]
    public void ForwardAddRelu_is_relu_of_the_convolution_plus_the_residual(int m, int n, int p, int stride, bool channelsLast)
    {
        torch.random.manual_seed(9);
        foreach (var execution in HetConvExecutions.All.Append(HetConvExecutions.Auto))
        {
            using var scope = NewDisposeScope();
            using var layer = new HetConv2d(m, n, 3, p, stride, bias: true) { Execution = execution };
            var x = randn(3, m, 9, 11);
            var dense = layer.DenseWeight().detach().to(ScalarType.Float64);
            var conv = F.conv2d(x.to(ScalarType.Float64), dense, layer.Bias!.detach().to(ScalarType.Float64),
                new long[] { stride }, new long[] { 1 });
            var residual = randn(conv.shape);
            if (channelsLast) residual = residual.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            var expected = F.relu(conv + residual.to(ScalarType.Float64));
            using (no_grad())
                TensorAssert.Close(layer.ForwardAddRelu(x, residual), expected, what: $"{execution.Name} without autograd");
            TensorAssert.Close(layer.ForwardAddRelu(x, residual), expected, what: $"{execution.Name} with autograd");
        }
    }

    [Fact]
    public void ForwardAddRelu_refuses_a_layer_whose_ReLU_comes_before_the_addition()
    {
        using var layer = new HetConv2d(8, 8, 3, 2) { ReluOutput = true };
        using var x = randn(1, 8, 5, 5);
        Assert.Throws<InvalidOperationException>(() => layer.ForwardAddRelu(x, zeros(1, 8, 5, 5)));
    }
}
