using static TorchSharp.torch;

namespace HetConv.Tests.Models;

/// <summary>Checks shared by the zoo's model tests.</summary>
internal static class ModelAssert
{
    /// <summary>
    /// Runs a forward pass in training mode on <paramref name="input"/>, checks the output is [batch, classes],
    /// then a backward pass of the cross-entropy, and checks every parameter got a finite gradient.
    /// </summary>
    public static void TrainsOneStep(nn.Module<Tensor, Tensor> model, long[] input, int classes)
    {
        using var scope = NewDisposeScope();
        model.train();
        var x = randn(input);
        var y = model.call(x);
        Assert.Equal(new[] { input[0], (long)classes }, y.shape);
        var target = arange(input[0], dtype: ScalarType.Int64) % classes;
        TensorAssert.Finite(y, "output");
        var loss = nn.functional.cross_entropy(y, target);
        model.zero_grad();
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} got no gradient");
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{name} has a non-finite gradient");
        }
        Assert.Contains(model.parameters(), p => p.grad!.abs().sum().item<float>() > 0);
    }

    public static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());
}
