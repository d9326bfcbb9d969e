using CsCheck;
using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Tests.Layers.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HetConv.Tests.Layers;

/// <summary>
/// Every execution strategy of HetConv2d against an independent reference: a float64 dense convolution with the
/// layer's dense weight, whose channel layout the tests derive from the paper's rule themselves.
/// </summary>
public class HetConv2dEquivalenceTests
{
    public sealed record Case(int M, int N, int K, int P, int Stride, int Padding, int Batch, int H, int W,
        HetConvArrangement Arrangement, bool Bias, long Seed)
    {
        public override string ToString() =>
            $"M={M} N={N} K={K} P={P} stride={Stride} padding={Padding} batch={Batch} {H}x{W} {Arrangement} bias={Bias} seed={Seed}";
    }

    // P in {1, 2, 4, M}; M a multiple of P; N unrelated to M and P; K in {1, 3, 5}; stride 1 or 2; batch from 1.
    private static readonly Gen<Case> Cases =
        from partKind in Gen.Int[0, 3]
        from multiple in Gen.Int[1, 4]
        from perChannelM in Gen.Int[1, 9]
        from n in Gen.Int[1, 11]
        from k in Gen.Int[0, 2].Select(i => 2 * i + 1)
        from stride in Gen.Int[1, 2]
        from paddingKind in Gen.Int[0, 4]
        from batch in Gen.Int[1, 3]
        from h in Gen.Int[0, 6]
        from w in Gen.Int[0, 6]
        from arrangement in Gen.Enum<HetConvArrangement>()
        from bias in Gen.Bool
        from seed in Gen.Long
        let p = partKind switch { 0 => 1, 1 => 2, 2 => 4, _ => perChannelM }
        let m = partKind == 3 ? perChannelM : p * multiple
        let padding = paddingKind switch { 0 => 0, 1 => k / 2 + 1, _ => k / 2 }
        let minSize = Math.Max(1, k - 2 * padding)
        select new Case(m, n, k, p, stride, padding, batch, minSize + h, minSize + w, arrangement, bias, seed);

    [Fact]
    public void Every_strategy_matches_the_dense_reference_forward_and_backward()
    {
        Cases.Sample(c =>
        {
            foreach (var execution in HetConvExecutions.All.Append(HetConvExecutions.Auto))
                CheckAgainstDenseReference(c, execution);
        }, iter: 150, threads: 1);
    }

    [Theory]
    [InlineData(16, 32, 3, 4, 2, HetConvArrangement.Shifted)]
    [InlineData(12, 8, 5, 3, 1, HetConvArrangement.Shifted)]
    [InlineData(8, 8, 3, 8, 1, HetConvArrangement.Shifted)]
    [InlineData(8, 6, 3, 4, 2, HetConvArrangement.Blocked)]
    [InlineData(6, 10, 1, 2, 1, HetConvArrangement.Shifted)]
    public void Named_shapes_match_the_dense_reference(int m, int n, int k, int p, int stride, HetConvArrangement arrangement)
    {
        foreach (var execution in HetConvExecutions.All)
            CheckAgainstDenseReference(new Case(m, n, k, p, stride, k / 2, 1, 7, 9, arrangement, true, 42), execution);
    }

    /// <summary>The hand-written kernel must really run (not delegate) for every part it claims, odd shapes included.</summary>
    [SkippableTheory]
    [InlineData(32, 40, 3, 1, 1)]
    [InlineData(32, 40, 3, 2, 2)]
    [InlineData(32, 40, 3, 4, 1)]
    [InlineData(32, 24, 5, 8, 2)]
    [InlineData(32, 13, 3, 16, 1)]
    [InlineData(32, 48, 3, 32, 2)]
    [InlineData(64, 48, 3, 32, 1)]
    [InlineData(32, 32, 5, 32, 1)]
    [InlineData(64, 20, 1, 4, 1)]
    [InlineData(8, 3, 3, 8, 1)]
    [InlineData(64, 40, 3, 2, 1)]   // wider: 320 multiply-add steps per output pixel
    [InlineData(96, 20, 5, 4, 2)]
    [InlineData(11, 16, 3, 1, 1)]   // weight-gradient rows 11 and 88: partial tiles of 5 and 4 rows
    [InlineData(7, 9, 3, 1, 1)]     // rows 7 and 56: partial tiles of 1 and 2
    [InlineData(9, 8, 5, 1, 1)]     // rows 9 and 216: a partial tile of 3
    public void Fused_kernel_runs_itself_for_its_parts_and_matches_the_reference(int m, int n, int k, int p, int stride)
    {
        FusedKernel.SkipUnlessSupported();
        using (var layer = new HetConv2d(m, n, k, p, stride))
        using (var x = randn(1, m, 7, 9))
            Assert.True(HetConvExecutions.FusedNhwc.Supports(layer, x));
        foreach (int batch in new[] { 1, 3 })
            CheckAgainstDenseReference(new Case(m, n, k, p, stride, k / 2, batch, 7, 9 + batch, HetConvArrangement.Shifted, batch == 3, 17), HetConvExecutions.FusedNhwc);
    }

    /// <summary>
    /// A batch of many small images: the weight gradient is summed in more slots than threads, taken as threads
    /// become free, then added up in slot order.
    /// </summary>
    [SkippableFact]
    public void Fused_gradients_of_a_batch_cut_into_many_slots_match_the_dense_reference()
    {
        FusedKernel.SkipUnlessSupported();
        CheckAgainstDenseReference(new Case(32, 48, 3, 4, 1, 1, 24, 8, 8, HetConvArrangement.Shifted, false, 23), HetConvExecutions.FusedNhwc);
    }

    /// <summary>The kernels' sums run in a fixed order, so training on them is reproducible to the last bit.</summary>
    [SkippableFact]
    public void Fused_gradients_are_the_same_on_every_run()
    {
        FusedKernel.SkipUnlessSupported();
        torch.random.manual_seed(12);
        using var layer = new HetConv2d(32, 48, 3, 4, stride: 1) { Execution = HetConvExecutions.FusedNhwc };
        using var x = randn(24, 32, 8, 8);
        using var upstream = randn(24, 48, 8, 8);
        (Tensor, Tensor, Tensor) Gradients()
        {
            layer.zero_grad();
            var input = x.clone().requires_grad_();
            var calls = FusedKernel.Calls(() => layer.call(input).backward(new[] { upstream }));
            Assert.Equal((1L, 1L), calls);
            return (input.grad!.clone(), layer.KxkWeight.grad!.clone(), layer.PointwiseWeight.grad!.clone());
        }
        var first = Gradients();
        for (int run = 0; run < 5; run++)
        {
            var again = Gradients();
            Assert.True(again.Item1.eq(first.Item1).all().item<bool>(), "input gradient");
            Assert.True(again.Item2.eq(first.Item2).all().item<bool>(), "kxk_weight gradient");
            Assert.True(again.Item3.eq(first.Item3).all().item<bool>(), "pointwise_weight gradient");
        }
    }

    internal static void CheckAgainstDenseReference(Case c, IHetConvExecution execution)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(c.Seed);
        using var layer = new HetConv2d(c.M, c.N, c.K, c.P, c.Stride, c.Padding, c.Bias, c.Arrangement) { Execution = execution };
        var x = randn(c.Batch, c.M, c.H, c.W).requires_grad_();
        Tensor y = null!, upstream = null!;
        var kernelCalls = FusedKernel.Calls(() =>
        {
            y = layer.call(x);
            upstream = randn_like(y);
            y.backward(new[] { upstream });
        });

        // Reference in float64, on a dense weight that is a leaf of its own.
        var dense = layer.DenseWeight().detach().to(ScalarType.Float64).requires_grad_();
        var bias = layer.Bias?.detach().to(ScalarType.Float64).requires_grad_();
        var x64 = x.detach().to(ScalarType.Float64).requires_grad_();
        var expected = F.conv2d(x64, dense, bias, new long[] { c.Stride }, new long[] { c.Padding });
        expected.backward(new[] { upstream.to(ScalarType.Float64) });

        string what = $"{execution.Name}, {c}";
        // fused-nhwc must run its kernel, forward and backward, wherever the documented rule says it can, and
        // nothing else may run it; auto may choose it or not.
        if (execution != HetConvExecutions.Auto)
        {
            bool runs = execution == HetConvExecutions.FusedNhwc && FusedKernel.Runs(c.P, c.Arrangement);
            Assert.True(kernelCalls == (runs ? (1, 1) : (0, 0)), $"fused kernel calls {kernelCalls} ({what})");
        }
        TensorAssert.Close(y, expected, what: $"output ({what})");
        TensorAssert.Close(x.grad!, x64.grad!, what: $"input gradient ({what})");

        // Gather the dense gradient at the kernels that are parameters, in the documented parameter order.
        var kxkChannels = ReferenceKxkChannels(c);
        int centre = c.K / 2;
        var expectedKxkGrad = zeros(c.N, c.M / c.P, c.K, c.K, dtype: ScalarType.Float64);
        var expectedPointwiseGrad = zeros(c.N, c.M - c.M / c.P, dtype: ScalarType.Float64);
        for (int n = 0; n < c.N; n++)
        {
            int j = 0, k = 0;
            for (int m = 0; m < c.M; m++)
            {
                if (kxkChannels[n].Contains(m)) expectedKxkGrad[n, j++] = dense.grad![n, m];
                else expectedPointwiseGrad[n, k++] = dense.grad![n, m, centre, centre];
            }
        }
        TensorAssert.Close(layer.KxkWeight.grad!, expectedKxkGrad, what: $"kxk_weight gradient ({what})");
        if (c.P > 1) // at P = 1 there are no 1x1 kernels and the empty parameter takes no part
            TensorAssert.Close(layer.PointwiseWeight.grad!, expectedPointwiseGrad, what: $"pointwise_weight gradient ({what})");
        if (c.Bias) TensorAssert.Close(layer.Bias!.grad!, bias!.grad!, what: $"bias gradient ({what})");
    }

    /// <summary>The paper's rule, written out independently of HetConvPattern.</summary>
    internal static HashSet<int>[] ReferenceKxkChannels(Case c) =>
        ReferenceKxkChannels(c.M, c.N, c.P, c.Arrangement);

    internal static HashSet<int>[] ReferenceKxkChannels(int m, int n, int p, HetConvArrangement arrangement)
    {
        var result = new HashSet<int>[n];
        if (arrangement == HetConvArrangement.Shifted)
        {
            for (int f = 0; f < n; f++)
                result[f] = Enumerable.Range(0, m).Where(ch => ((ch - f) % p + p) % p == 0).ToHashSet();
            return result;
        }
        // Blocked: filters in P contiguous runs, run g as long as residue class g of 0..n-1, reading block g.
        int filter = 0;
        for (int g = 0; g < p; g++)
        {
            int runLength = Enumerable.Range(0, n).Count(f => f % p == g);
            for (int i = 0; i < runLength; i++)
                result[filter++] = Enumerable.Range(g * (m / p), m / p).ToHashSet();
        }
        return result;
    }
}

/// <summary>Changes torch's process-wide thread count, so it runs apart from the other tests (see <see cref="ProcessWideState"/>).</summary>
[Collection(nameof(ProcessWideState))]
public class ThreadCountTests
{
    /// <summary>
    /// Batches with enough images are padded group by group inside the kernel's workers (several small images per
    /// group, a partial last group); large images are cut into bands of rows (above 384 KB padded); batch 1 of small
    /// images shares one padded copy among them. Every way must agree with the reference.
    /// </summary>
    [SkippableTheory]
    [InlineData(16, 24, 3, 4, 1, 25, 3)]
    [InlineData(16, 16, 3, 2, 2, 9, 8)]
    [InlineData(32, 20, 5, 32, 1, 7, 10)]
    [InlineData(8, 8, 3, 8, 1, 1, 12)]
    [InlineData(32, 16, 3, 4, 1, 2, 58)]   // two bands of 29 rows (input gradient: whole images)
    [InlineData(24, 20, 5, 4, 1, 3, 64)]   // K = 5: two bands of 32 rows (input gradient: whole images)
    public void Fused_kernel_matches_the_reference_however_it_splits_the_batch(int m, int n, int k, int p, int stride, int batch, int size)
    {
        FusedKernel.SkipUnlessSupported();
        int threads = torch.get_num_threads();
        try
        {
            foreach (int workers in new[] { 1, 2, 3 })
            {
                torch.set_num_threads(workers);
                HetConv2dEquivalenceTests.CheckAgainstDenseReference(new HetConv2dEquivalenceTests.Case(m, n, k, p, stride, k / 2, batch, size, size + 1, HetConvArrangement.Shifted, true, 5), HetConvExecutions.FusedNhwc);
            }
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

}
