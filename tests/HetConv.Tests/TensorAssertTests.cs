using Xunit.Sdk;
using static TorchSharp.torch;

namespace HetConv.Tests;

/// <summary>The comparison almost every numeric test goes through must itself fail when it should.</summary>
public class TensorAssertTests
{
    private static Tensor Values() => tensor(new[] { 1.0f, -2.0f, 3.0f, 0.5f, 4.0f, -6.0f }).reshape(2, 3);

    [Theory]
    [InlineData(float.NaN, true)]
    [InlineData(float.NaN, false)]
    [InlineData(float.PositiveInfinity, true)]
    [InlineData(float.PositiveInfinity, false)]
    [InlineData(float.NegativeInfinity, true)]
    [InlineData(float.NegativeInfinity, false)]
    public void Close_fails_on_a_non_finite_value_in_either_tensor_and_names_its_index(float bad, bool inActual)
    {
        using var good = Values();
        using var spoiled = Values();
        spoiled[1, 1] = tensor(bad);   // flat index 4
        var (actual, expected) = inActual ? (spoiled, good) : (good, spoiled);
        var e = Assert.ThrowsAny<XunitException>(() => TensorAssert.Close(actual, expected, rtol: 1e9));
        Assert.Contains("element 4 ", e.Message);
    }

    [Fact]
    public void Close_fails_on_nan_in_both_tensors_at_the_same_place()
    {
        using var a = Values();
        using var b = Values();
        a[0, 2] = tensor(float.NaN);
        b[0, 2] = tensor(float.NaN);
        var e = Assert.ThrowsAny<XunitException>(() => TensorAssert.Close(a, b));
        Assert.Contains("element 2 ", e.Message);
    }

    [Fact]
    public void Close_passes_equal_tensors_and_tensors_within_tolerance()
    {
        using var a = Values();
        TensorAssert.Close(a, Values());
        TensorAssert.Close(a.to(ScalarType.Float64), Values());
        TensorAssert.Close(a * (1 + 5e-5), a, rtol: 1e-4);
        TensorAssert.Close(zeros(0), zeros(0));
    }

    [Fact]
    public void Close_fails_one_element_over_tolerance_and_names_it()
    {
        using var a = Values();
        using var b = Values();
        b[1, 2] = tensor(-6.01f);   // 0.01 off where rtol * (6 + 0.06) is about 6e-4
        var e = Assert.ThrowsAny<XunitException>(() => TensorAssert.Close(a, b));
        Assert.Contains("element 5 ", e.Message);
        Assert.ThrowsAny<XunitException>(() => TensorAssert.Close(a, Values().reshape(3, 2)));
    }

    [Fact]
    public void Finite_and_differ_fail_on_non_finite_values()
    {
        Assert.ThrowsAny<XunitException>(() => TensorAssert.Finite(double.NaN, "loss"));
        Assert.ThrowsAny<XunitException>(() => TensorAssert.Finite(double.NegativeInfinity, "loss"));
        TensorAssert.Finite(0.0, "loss");

        using var a = Values();
        using var nan = full(2, 3, float.NaN);
        Assert.ThrowsAny<XunitException>(() => TensorAssert.Differ(nan, a));   // allclose alone is false here
        Assert.ThrowsAny<XunitException>(() => TensorAssert.Differ(a, nan));
        Assert.ThrowsAny<XunitException>(() => TensorAssert.Differ(a, Values()));
        TensorAssert.Differ(a * 2, a);
    }
}
