using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Models;
using HetConv.Tests.Layers.Execution;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Tests.Conversion;

public class InferenceFoldingTests
{
    [Theory]
    [InlineData("vgg16-cifar", 12)]
    [InlineData("resnet20", 9)]   // relu1 of its 9 blocks; the ReLU after each residual addition stays
    public void Apply_keeps_the_eval_output(string name, int fusedRelus)
    {
        torch.random.manual_seed(5);
        using var model = ModelZoo.Create(name, ConvOptions.HetConv(4));
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            using var noGrad = no_grad();
            bn.running_mean!.uniform_(-0.5, 0.5);
            bn.running_var!.uniform_(0.5, 2);
        }
        model.eval();
        using var x = randn(2, 3, 32, 32);
        using var noGrad2 = no_grad();
        using var before = model.call(x);

        var report = InferenceFolding.Apply(model);

        Assert.Empty(model.modules().OfType<BatchNorm2d>());
        Assert.NotEmpty(report.FoldedBatchNorms);
        Assert.Equal(fusedRelus, report.FusedRelus.Count);
        Assert.All(model.modules().OfType<HetConv2d>(), layer => Assert.True(layer.TrustDerivedWeights));
        foreach (var execution in new[] { HetConvExecutions.FusedNhwc, HetConvExecutions.TwoBranch, HetConvExecutions.Auto })
        {
            model.UseExecution(execution);
            var (forward, _) = FusedKernel.Calls(() => TensorAssert.Close(model.call(x), before, rtol: 1e-3, what: execution.Name));
            if (execution == HetConvExecutions.FusedNhwc)   // every layer on the kernel, where this CPU has it
                Assert.Equal(FusedKernel.IsSupported ? model.modules().OfType<HetConv2d>().Count() : 0, forward);
        }
    }

    /// <summary>Trusted packed weights are kept through an in-place change until invalidated; checked ones are not.</summary>
    [SkippableFact]
    public void Trusted_weights_are_repacked_only_when_invalidated()
    {
        FusedKernel.SkipUnlessSupported();
        torch.random.manual_seed(6);
        using var layer = new HetConv2d(16, 16, 3, 4) { Execution = HetConvExecutions.FusedNhwc };
        layer.eval();
        using var x = randn(2, 16, 6, 6);
        using var noGrad = no_grad();
        Tensor Reference() => nn.functional.conv2d(x, layer.DenseWeight(), padding: new long[] { 1 });

        layer.TrustDerivedWeights = true;
        var first = FusedKernel.Forward(1, () => layer.call(x));
        TensorAssert.Close(first, Reference());
        layer.KxkWeight.mul_(2);
        TensorAssert.Close(layer.call(x), first, what: "trusted: the packed weights are kept");
        layer.InvalidateDerivedWeights();
        TensorAssert.Close(layer.call(x), Reference(), what: "trusted, after InvalidateDerivedWeights");

        layer.TrustDerivedWeights = false;
        layer.KxkWeight.mul_(2);
        TensorAssert.Close(FusedKernel.Forward(1, () => layer.call(x)), Reference(), what: "checked: the change is seen at once");
    }
}
