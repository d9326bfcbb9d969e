using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Tests.Interop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Tests.Conversion;

public class DenseFoldingTests
{
    [Theory]
    [InlineData(16, 16, 3, 4, 1, HetConvArrangement.Shifted, false)]
    [InlineData(12, 10, 3, 4, 2, HetConvArrangement.Shifted, true)]    // P does not divide N
    [InlineData(8, 12, 5, 2, 1, HetConvArrangement.Blocked, true)]
    [InlineData(8, 8, 3, 8, 2, HetConvArrangement.Shifted, false)]     // PC
    public void A_layer_and_its_conv2d_compute_the_same(int m, int n, int k, int p, int stride, HetConvArrangement arrangement, bool bias)
    {
        torch.random.manual_seed(11);
        using var layer = new HetConv2d(m, n, k, p, stride, bias: bias, arrangement: arrangement);
        layer.eval();
        using var conv = DenseFolding.ToConv2d(layer);
        using var x = randn(2, m, 9, 9);
        using var noGrad = no_grad();
        using var expected = layer.call(x);
        using var actual = conv.call(x);
        TensorAssert.Close(actual, expected, rtol: 1e-5);
        Assert.Equal(bias, conv.bias is not null);
        Assert.False(conv.training);
        // The taps outside the pattern are zero: n * (m - m/p) * (k*k - 1) of them.
        long zeros = conv.weight!.eq(0).sum().item<long>();
        Assert.True(zeros >= (long)n * (m - m / p) * (k * k - 1), $"{zeros} zero taps");
    }

    [Theory]
    [MemberData(nameof(ExportCases.ModelsAndKinds), MemberType = typeof(ExportCases))]
    public void A_folded_model_has_no_hetconv_and_the_same_output(string name, string kind)
    {
        using var model = ExportCases.Create(name, kind);
        int hetLayers = model.modules().OfType<HetConv2d>().Count();
        int convs = model.modules().OfType<Conv2d>().Count();
        using var x = randn(new long[] { 2 }.Concat(ExportCases.InputShape(name)).ToArray());
        using var noGrad = no_grad();
        using var before = model.call(x);

        var folded = DenseFolding.Fold(model);

        Assert.Equal(hetLayers, folded.Count);
        Assert.Empty(model.modules().OfType<HetConv2d>());
        Assert.Equal(convs + hetLayers, model.modules().OfType<Conv2d>().Count());
        Assert.DoesNotContain(model.state_dict().Keys, key => key.EndsWith("kxk_weight", StringComparison.Ordinal));
        using var after = model.call(x);
        TensorAssert.Close(after, before, rtol: 1e-4, what: $"{name} {kind}");
    }

    [Fact]
    public void A_layer_with_a_fused_relu_is_refused()
    {
        using var layer = new HetConv2d(8, 8, 3, 4) { ReluOutput = true };
        Assert.Throws<InvalidOperationException>(() => DenseFolding.ToConv2d(layer));
    }
}
