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
}
