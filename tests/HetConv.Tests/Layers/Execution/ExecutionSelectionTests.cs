using HetConv.Layers;
using HetConv.Layers.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Layers.Execution;

public class ExecutionSelectionTests
{
    [Fact]
    public void Auto_chooses_a_selectable_strategy_once_per_input_and_mode()
    {
        var auto = new AutoExecution();
        using var layer = new HetConv2d(16, 16, 3, 4) { Execution = auto };
        using var x = randn(2, 16, 8, 8);
        using (no_grad()) layer.call(x);
        using (no_grad()) layer.call(x);
        Assert.Single(auto.Choices);
        Assert.Contains(auto.Choices.Values.Single(), HetConvExecutions.Selectable);

        layer.call(x.requires_grad_(true)).sum().backward();
        Assert.Equal(2, auto.Choices.Count);                   // training is a key of its own
        Assert.Contains(auto.Choices.Keys, k => k.Autograd);
        Assert.NotNull(layer.KxkWeight.grad);
    }

    [Fact]
    public void Auto_leaves_the_parameters_gradients_alone_while_measuring()
    {
        using var layer = new HetConv2d(8, 8, 3, 2) { Execution = new AutoExecution() };
        var x = randn(1, 8, 6, 6, requires_grad: true);
        var y = layer.call(x);
        y.sum().backward();
        using var reference = HetConvExecutions.TwoBranch.Forward(layer, x.detach().requires_grad_(true));
        // One backward of sum(): the weight gradient equals a single pass's, not several accumulated.
        var x2 = x.detach().requires_grad_(true);
        var expected = torch.autograd.grad(new[] { HetConvExecutions.TwoBranch.Forward(layer, x2).sum() }, new[] { (Tensor)layer.KxkWeight });
        TensorAssert.Close(layer.KxkWeight.grad!, expected[0]);
    }

    [Fact]
    public void Use_execution_pins_every_layer_of_a_model()
    {
        using var model = torch.nn.Sequential(new HetConv2d(8, 8, 3, 2), torch.nn.ReLU(), new HetConv2d(8, 4, 3, 4));
        model.UseExecution(HetConvExecutions.TwoBranch);
        Assert.All(model.modules().OfType<HetConv2d>(), l => Assert.Same(HetConvExecutions.TwoBranch, l.Execution));
        Assert.Equal("fused-nhwc", HetConvExecutions.Parse("FUSED-NHWC").Name);
        Assert.Throws<ArgumentException>(() => HetConvExecutions.Parse("fastest"));
    }

    [SkippableFact]
    public void Fused_strategy_reuses_packed_weights_in_eval_mode_and_sees_every_change_to_them()
    {
        FusedKernel.SkipUnlessSupported();
        long calls = FusedNhwcExecution.ForwardCallsOnThisThread;
        torch.random.manual_seed(4);
        using var layer = new HetConv2d(16, 16, 3, 4) { Execution = HetConvExecutions.FusedNhwc };
        layer.eval();
        using var x = randn(1, 16, 5, 5);
        using var noGrad = no_grad();
        var first = layer.call(x);
        Assert.False(layer.DerivedWeights.IsEmpty);
        TensorAssert.Close(layer.call(x), first);

        layer.CopyFromDense(layer.DenseWeight() * 2);            // through the layer: the cache is dropped
        TensorAssert.Close(layer.call(x), first * 2);
        layer.KxkWeight.div_(2);                                  // in place, behind the layer's back: seen too
        layer.PointwiseWeight.div_(2);
        TensorAssert.Close(layer.call(x), first);
        layer.KxkWeight.mul_(2);
        layer.PointwiseWeight.mul_(2);
        layer.KxkWeight[7, 1, 2, 0].add_(0.5f);                    // one value, in place
        TensorAssert.Differ(layer.call(x), first, "the output after a change to one weight");
        layer.KxkWeight[7, 1, 2, 0].sub_(0.5f);

        layer.FoldAffine(full(16, 0.5f), zeros(16));
        TensorAssert.Close(layer.call(x), first);

        var state = layer.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.mul(3));
        layer.load_state_dict(state);
        TensorAssert.Close(layer.call(x), first * 3, rtol: 1e-4);

        Assert.Equal(7, FusedNhwcExecution.ForwardCallsOnThisThread - calls);   // every call above ran the kernel
        layer.train();
        Assert.True(layer.DerivedWeights.IsEmpty);
    }
}
