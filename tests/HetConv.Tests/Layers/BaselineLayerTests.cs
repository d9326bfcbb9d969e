using HetConv.Layers;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HetConv.Tests.Layers;

public class BaselineLayerTests
{
    private static Tensor Param(torch.nn.Module module, string name) =>
        module.named_parameters().Single(p => p.name == name).parameter;

    [Fact]
    public void Groupwise_then_pointwise_is_two_convolutions_in_sequence()
    {
        torch.random.manual_seed(1);
        using var layer = new GroupwisePointwiseConv2d(16, 24, 3, groups: 4, stride: 2);
        Assert.Equal(16L * (16 / 4) * 9 + 16 * 24, layer.parameters().Sum(p => p.numel()));
        var x = randn(2, 16, 9, 9);
        var expected = F.conv2d(F.conv2d(x, Param(layer, "gwc.weight"), strides: new long[] { 2 }, padding: new long[] { 1 }, groups: 4),
            Param(layer, "pwc.weight"));
        TensorAssert.Close(layer.call(x), expected);
        Assert.Equal(new long[] { 2, 24, 5, 5 }, layer.call(x).shape);
        Assert.Throws<ArgumentException>(() => new GroupwisePointwiseConv2d(16, 24, 3, groups: 3));
    }

    [Fact]
    public void Depthwise_then_pointwise_has_one_kernel_per_input_channel()
    {
        torch.random.manual_seed(2);
        using var layer = new DepthwisePointwiseConv2d(8, 12, 3);
        Assert.Equal(8L * 9 + 8 * 12, layer.parameters().Sum(p => p.numel()));
        var x = randn(1, 8, 6, 6);
        var expected = F.conv2d(F.conv2d(x, Param(layer, "dwc.weight"), padding: new long[] { 1 }, groups: 8), Param(layer, "pwc.weight"));
        TensorAssert.Close(layer.call(x), expected);
    }

    [Fact]
    public void Squeeze_excitation_scales_each_channel_by_its_gate()
    {
        torch.random.manual_seed(3);
        using var layer = new SqueezeExcitation(16, reduction: 8);
        Assert.Equal(2, layer.Hidden);
        Assert.Equal(16L * 2 + 2 + 2 * 16 + 16, layer.parameters().Sum(p => p.numel()));
        var x = randn(3, 16, 5, 5);
        var actual = layer.call(x);
        for (int b = 0; b < 3; b++)
        for (int c = 0; c < 16; c++)
        {
            // Written out per element, not with the layer's own tensor ops.
            double[] hidden = new double[2];
            for (int h = 0; h < 2; h++)
            {
                double sum = Param(layer, "fc1.bias")[h].item<float>();
                for (int i = 0; i < 16; i++) sum += Param(layer, "fc1.weight")[h, i].item<float>() * x[b, i].mean().item<float>();
                hidden[h] = Math.Max(0, sum);
            }
            double logit = Param(layer, "fc2.bias")[c].item<float>();
            for (int h = 0; h < 2; h++) logit += Param(layer, "fc2.weight")[c, h].item<float>() * hidden[h];
            double gate = 1 / (1 + Math.Exp(-logit));
            TensorAssert.Close(actual[b, c], x[b, c] * gate, what: $"batch {b}, channel {c}");
        }
    }
}
