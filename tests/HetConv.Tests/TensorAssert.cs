using static TorchSharp.torch;

namespace HetConv.Tests;

/// <summary>Tolerance checks that say where and by how much two tensors differ.</summary>
internal static class TensorAssert
{
    /// <summary>
    /// |actual - expected| &lt;= rtol * (|expected| + scale) elementwise, where scale = max|expected| / 100
    /// keeps near-zero entries of a sum (cancellation) from demanding more than fp32 can give.
    /// </summary>
    public static void Close(Tensor actual, Tensor expected, double rtol = 1e-4, string what = "tensor")
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var a = actual.detach().to(ScalarType.Float64).cpu();
        var e = expected.detach().to(ScalarType.Float64).cpu();
        if (e.numel() == 0) return;
        double scale = e.abs().max().item<double>() / 100;
        var excess = (a - e).abs() - rtol * (e.abs() + scale);
        double worst = excess.max().item<double>();
        if (worst > 0)
        {
            long at = excess.argmax().item<long>();
            Assert.Fail($"{what}: element {at} is {a.flatten()[at].item<double>()}, expected {e.flatten()[at].item<double>()} " +
                        $"(rtol {rtol}, max |expected| {scale * 100})");
        }
    }
}
