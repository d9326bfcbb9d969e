using static TorchSharp.torch;

namespace HetConv.Tests;

/// <summary>
/// Tolerance checks that say where and by how much two tensors differ. Every check first requires both sides to be
/// finite: a NaN compares false with everything, so a tolerance test on it alone would pass.
/// </summary>
internal static class TensorAssert
{
    /// <summary>
    /// |actual - expected| &lt;= rtol * (|expected| + scale) elementwise, where scale = max|expected| * scaleFraction
    /// (1/100 unless given) keeps near-zero entries of a sum (cancellation) from demanding more than fp32 can give.
    /// A deep network's outputs, summed in another order by another runtime, are compared at the output's scale
    /// (scaleFraction 1).
    /// </summary>
    public static void Close(Tensor actual, Tensor expected, double rtol = 1e-4, string what = "tensor", double scaleFraction = 0.01)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var a = actual.detach().to(ScalarType.Float64).cpu();
        var e = expected.detach().to(ScalarType.Float64).cpu();
        Finite(e, $"{what} (expected)");
        Finite(a, what);
        if (e.numel() == 0) return;
        double scale = e.abs().max().item<double>() * scaleFraction;
        var excess = (a - e).abs() - rtol * (e.abs() + scale);
        double worst = excess.max().item<double>();
        if (worst > 0)
        {
            long at = excess.argmax().item<long>();
            Assert.Fail($"{what}: element {at} is {a.flatten()[at].item<double>()}, expected {e.flatten()[at].item<double>()} " +
                        $"(rtol {rtol}, max |expected| {e.abs().max().item<double>()})");
        }
    }

    /// <summary>Fails on the first NaN or infinity, naming its flat index.</summary>
    public static void Finite(Tensor tensor, string what = "tensor")
    {
        using var scope = NewDisposeScope();
        var bad = tensor.detach().isfinite().logical_not().flatten();
        if (!bad.any().item<bool>()) return;
        long at = bad.nonzero()[0, 0].item<long>();
        Assert.Fail($"{what}: element {at} is {tensor.detach().flatten()[at].cpu().to(ScalarType.Float64).item<double>()}; " +
                    $"{bad.sum().item<long>()} of {tensor.numel()} elements are not finite");
    }

    /// <summary>A finite number: for values read off tensors and compared with &lt; or &gt;, which NaN would pass negated.</summary>
    public static void Finite(double value, string what)
    {
        if (!double.IsFinite(value)) Assert.Fail($"{what} is {value}");
    }

    /// <summary>
    /// Two finite tensors of one shape that are not close (allclose, its defaults unless given): what a test that
    /// expects a change asserts, since allclose is false on NaN too.
    /// </summary>
    public static void Differ(Tensor actual, Tensor unexpected, string what = "tensor", double rtol = 1e-5, double atol = 1e-8)
    {
        Assert.Equal(unexpected.shape, actual.shape);
        Finite(unexpected, $"{what} (compared with)");
        Finite(actual, what);
        Assert.False(actual.allclose(unexpected, rtol, atol), $"{what} is unchanged (rtol {rtol}, atol {atol})");
    }
}
