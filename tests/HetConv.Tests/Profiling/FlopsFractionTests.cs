using HetConv.Layers;
using HetConv.Profiling;

namespace HetConv.Tests.Profiling;

/// <summary>The paper's cost of a HetConv layer, 1/P + (1 - 1/P)/K^2 of the standard convolution's FLOPs (Section 3.2).</summary>
public class FlopsFractionTests
{
    [Theory]
    [InlineData(1, 3, 1.0)]                    // P = 1 is the standard convolution
    [InlineData(4, 3, 1.0 / 3)]                // 1/4 + 3/4 * 1/9
    [InlineData(2, 5, 0.5 + 0.5 / 25)]
    [InlineData(64, 3, 1.0 / 64 + 63.0 / 64 / 9)]
    public void Is_the_papers_formula(int part, int kernel, double expected) =>
        Assert.Equal(expected, HetConvPattern.FlopsFraction(part, kernel), 12);

    [Fact]
    public void The_paper_convention_counts_a_hetconv_layer_at_that_fraction_of_the_standard_one()
    {
        using var standard = TorchSharp.torch.nn.Conv2d(32, 16, 3, padding: 1);
        using var het = new HetConv2d(32, 16, 3, 8);
        long[] input = [1, 32, 10, 10], output = [1, 16, 10, 10];
        double dense = FlopHandlers.Paper[typeof(TorchSharp.Modules.Conv2d)](standard, input, output);
        double hetconv = FlopHandlers.Paper[typeof(HetConv2d)](het, input, output);
        Assert.Equal(1600 * (32 * 9 + 1.0), dense);
        Assert.Equal(dense * (1.0 / 8 + 7.0 / 8 / 9), hetconv, 6);
    }
}
