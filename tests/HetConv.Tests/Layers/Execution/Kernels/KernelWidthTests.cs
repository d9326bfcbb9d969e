using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Layers.Execution.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Layers.Execution.Kernels;

/// <summary>
/// The NHWC kernels at every vector width, forced in-process through <see cref="KernelIsa.Force"/>: forward, input
/// and weight gradients against the float64 dense reference. A width the CPU lacks runs emulated, exactly; each
/// case also checks that the kernels really ran at the width asked for.
/// </summary>
public class KernelWidthTests
{
    public static TheoryData<VectorWidth, int, int, int, int, int, int> Shapes()
    {
        var data = new TheoryData<VectorWidth, int, int, int, int, int, int>();
        var shapes = new (int M, int N, int K, int P, int Stride, int Batch)[]
        {
            (32, 40, 3, 1, 1, 3),    // P = 1: one broadcast per tap; N = 40: a partial last column at every width
            (32, 40, 3, 2, 2, 1),    // stride 2, batch 1
            (32, 40, 3, 4, 1, 3),
            (32, 24, 5, 8, 2, 3),    // K = 5, stride 2
            (32, 40, 3, 16, 1, 1),   // P = 16: the vectors' channels coincide at 16 lanes
            (32, 48, 3, 32, 2, 3),   // three blocks: AVX-512's last column has one
            (64, 48, 3, 32, 1, 3),
            (48, 40, 3, 48, 1, 3),   // P = 48: at 16 lanes the second vector's channels wrap before the first's
            (96, 20, 5, 4, 2, 1),
            (11, 16, 3, 1, 1, 3),    // 16 filters: AVX-512 hands them to the AVX2 tile; weight rows 11 and 88
            (13, 33, 3, 1, 1, 3),    // odd channels; weight rows 13 and 104: partial tiles at 6 and 12 rows
            (64, 20, 1, 4, 1, 3),    // K = 1
            (8, 3, 3, 8, 1, 3),
            (20, 36, 3, 4, 1, 2),
        };
        foreach (var width in Enum.GetValues<VectorWidth>())
            foreach (var s in shapes)
                data.Add(width, s.M, s.N, s.K, s.P, s.Stride, s.Batch);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_width_matches_the_dense_reference(VectorWidth width, int m, int n, int k, int p, int stride, int batch)
    {
        using var forced = KernelIsa.Force(width);
        var ran = KernelWidths.For(width, n);
        long before = KernelIsa.Launches(ran);
        var c = new HetConv2dEquivalenceTests.Case(m, n, k, p, stride, k / 2, batch, 7, 9 + batch, HetConvArrangement.Shifted, batch == 3, 17);
        HetConv2dEquivalenceTests.CheckAgainstDenseReference(c, HetConvExecutions.FusedNhwc);
        // Forward and weight gradient at least (the input gradient too where it is a HetConv of its own).
        Assert.True(KernelIsa.Launches(ran) - before >= 2, $"the kernels did not run at {ran} for {c}");
    }

    /// <summary>Images large enough to be cut into bands of rows (forward and weight gradient), at every width.</summary>
    [Theory]
    [InlineData(VectorWidth.Vector128)]
    [InlineData(VectorWidth.Avx2)]
    [InlineData(VectorWidth.Avx512)]
    public void Every_width_matches_the_reference_on_bands_of_rows(VectorWidth width)
    {
        using var forced = KernelIsa.Force(width);
        HetConv2dEquivalenceTests.CheckAgainstDenseReference(
            new HetConv2dEquivalenceTests.Case(32, 40, 3, 4, 1, 1, 2, 58, 59, HetConvArrangement.Shifted, true, 5), HetConvExecutions.FusedNhwc);
        HetConv2dEquivalenceTests.CheckAgainstDenseReference(
            new HetConv2dEquivalenceTests.Case(24, 36, 5, 4, 1, 2, 3, 64, 65, HetConvArrangement.Shifted, true, 6), HetConvExecutions.FusedNhwc);
    }

    /// <summary>The residual-and-ReLU epilogue of inference, stored from full and partial tiles, at every width.</summary>
    [Theory]
    [InlineData(VectorWidth.Vector128)]
    [InlineData(VectorWidth.Avx2)]
    [InlineData(VectorWidth.Avx512)]
    public void Every_width_applies_the_residual_and_relu_as_it_stores(VectorWidth width)
    {
        using var scope = NewDisposeScope();
        using var forced = KernelIsa.Force(width);
        torch.random.manual_seed(3);
        using var layer = new HetConv2d(32, 40, 3, 4, 1, 1, true, HetConvArrangement.Shifted) { Execution = HetConvExecutions.FusedNhwc };
        layer.eval();
        var x = randn(2, 32, 9, 11);
        var residual = randn(2, 40, 9, 11);
        long before = KernelIsa.Launches(width);
        Tensor actual;
        using (no_grad()) actual = HetConvExecutions.FusedNhwc.ForwardAddRelu(layer, x, residual);
        var expected = nn.functional.relu(nn.functional.conv2d(x.to(ScalarType.Float64), layer.DenseWeight().detach().to(ScalarType.Float64),
            layer.Bias!.detach().to(ScalarType.Float64), padding: new long[] { 1 }) + residual.to(ScalarType.Float64));
        Assert.Equal(1, KernelIsa.Launches(width) - before);
        TensorAssert.Close(actual, expected, what: $"relu(conv + residual) at {width}");
    }

    [Theory]
    [InlineData("avx512", VectorWidth.Avx512)]
    [InlineData("AVX2", VectorWidth.Avx2)]
    [InlineData(" vector128 ", VectorWidth.Vector128)]
    public void Widths_are_read_by_name(string text, VectorWidth expected) => Assert.Equal(expected, KernelIsa.Parse(text));

    [Fact]
    public void Auto_is_the_cpus_choice_and_an_unknown_name_says_what_is_valid()
    {
        Assert.Null(KernelIsa.Parse("auto"));
        var e = Assert.Throws<ArgumentException>(() => KernelIsa.Parse("sse9", KernelIsa.EnvironmentVariable));
        Assert.Contains("HETCONV_ISA: 'sse9'", e.Message);
        Assert.Contains("avx512, avx2, vector128", e.Message);
    }

    [Fact]
    public void A_forced_width_holds_on_its_thread_until_disposed()
    {
        var before = KernelIsa.Current;
        using (KernelIsa.Force(VectorWidth.Vector128))
        {
            Assert.Equal(VectorWidth.Vector128, KernelIsa.Current);
            VectorWidth other = before;
            var thread = new Thread(() => other = KernelIsa.Current);
            thread.Start();
            thread.Join();
            Assert.Equal(before, other);
        }
        Assert.Equal(before, KernelIsa.Current);
    }
}
