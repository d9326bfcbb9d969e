using HetConv.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Layers;

public class HetConv2dTests
{
    [Theory]
    [InlineData(8, 6, 3, 1)]
    [InlineData(8, 6, 3, 2)]
    [InlineData(8, 6, 3, 4)]
    [InlineData(8, 6, 3, 8)]
    [InlineData(12, 16, 5, 3)]
    public void Shifted_dense_weight_has_a_KxK_kernel_exactly_where_m_minus_n_mod_P_is_zero(int m, int n, int k, int p)
    {
        torch.random.manual_seed(7);
        using var layer = new HetConv2d(m, n, k, p);
        using var dense = layer.DenseWeight();
        int centre = k / 2;
        for (int f = 0; f < n; f++)
        {
            for (int ch = 0; ch < m; ch++)
            {
                bool kxk = ((ch - f) % p + p) % p == 0;
                for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++)
                {
                    float value = dense[f, ch, u, v].item<float>();
                    bool tap = kxk || (u == centre && v == centre);
                    if (tap) Assert.True(value != 0, $"filter {f}, channel {ch}, tap ({u},{v}) should be a weight");
                    else Assert.True(value == 0, $"filter {f}, channel {ch}, tap ({u},{v}) should be zero, is {value}");
                }
            }
        }
    }

    [Fact]
    public void Dense_weight_places_each_parameter_at_its_documented_channel()
    {
        using var layer = new HetConv2d(8, 5, 3, 4);
        using var dense = layer.DenseWeight();
        for (int f = 0; f < 5; f++)
        {
            var kxk = Enumerable.Range(0, 8).Where(ch => ((ch - f) % 4 + 4) % 4 == 0).ToArray();
            var pointwise = Enumerable.Range(0, 8).Except(kxk).ToArray();
            for (int j = 0; j < kxk.Length; j++)
                Assert.True(dense[f, kxk[j]].allclose(layer.KxkWeight[f, j], rtol: 0, atol: 0));
            for (int j = 0; j < pointwise.Length; j++)
                Assert.Equal(layer.PointwiseWeight[f, j].item<float>(), dense[f, pointwise[j], 1, 1].item<float>());
        }
    }

    [Theory]
    [InlineData(64, 128, 3, 1, false)]
    [InlineData(64, 128, 3, 4, false)]
    [InlineData(64, 128, 3, 64, true)]
    [InlineData(48, 20, 5, 3, true)]
    [InlineData(7, 3, 1, 7, false)]
    public void Learnable_parameters_follow_the_formula(int m, int n, int k, int p, bool bias)
    {
        using var layer = new HetConv2d(m, n, k, p, bias: bias);
        long expected = (long)n * (m / p * k * k + m - m / p) + (bias ? n : 0);
        Assert.Equal(expected, layer.parameters().Sum(t => t.numel()));
        Assert.Equal(expected - (bias ? n : 0), layer.Pattern.WeightCount);
        var names = layer.named_parameters().Select(np => np.name).ToArray();
        Assert.Equal(bias ? new[] { "kxk_weight", "pointwise_weight", "bias" } : new[] { "kxk_weight", "pointwise_weight" }, names);
    }

    [Theory]
    [InlineData(HetConvArrangement.Shifted)]
    [InlineData(HetConvArrangement.Blocked)]
    public void Optimizer_steps_train_the_pattern_and_leave_every_zero_at_zero(HetConvArrangement arrangement)
    {
        torch.random.manual_seed(3);
        using var layer = new HetConv2d(8, 12, 3, 4, bias: true, arrangement: arrangement);
        using var before = layer.DenseWeight().detach();
        var optimizer = torch.optim.SGD(layer.parameters(), 0.1, momentum: 0.9, weight_decay: 5e-4);
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var x = randn(2, 8, 6, 6);
            layer.call(x).pow(2).mean().backward();
            optimizer.step();
        }
        using var after = layer.DenseWeight().detach();
        var structuralZero = before.eq(0);
        Assert.True(after.masked_select(structuralZero).eq(0).all().item<bool>(), "a zero outside the pattern moved");
        TensorAssert.Differ(after.masked_select(structuralZero.logical_not()), before.masked_select(structuralZero.logical_not()),
            "the pattern's weights after training");
    }

    [Theory]
    [InlineData(8, 8, 3, 3)]   // P does not divide M
    [InlineData(8, 8, 3, 0)]   // P < 1
    [InlineData(8, 8, 3, -2)]
    [InlineData(8, 8, 3, 16)]  // P > M
    [InlineData(0, 8, 3, 1)]   // no input channels
    [InlineData(8, 0, 3, 1)]   // no output channels
    [InlineData(8, 8, 2, 1)]   // even K
    [InlineData(8, 8, 0, 1)]   // K < 1
    public void Invalid_configurations_throw_ArgumentException_naming_the_values(int m, int n, int k, int p)
    {
        var error = Assert.Throws<ArgumentException>(() => new HetConv2d(m, n, k, p));
        Assert.Matches(@"= -?\d+", error.Message);
    }

    [Fact]
    public void Invalid_part_lists_the_valid_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => new HetConv2d(12, 8, 3, 5));
        Assert.Contains("P = 5", error.Message);
        Assert.Contains("1, 2, 3, 4, 6, 12", error.Message);
    }

    [Fact]
    public void Wrong_input_channels_throw_ArgumentException()
    {
        using var layer = new HetConv2d(8, 8, 3, 2);
        var error = Assert.Throws<ArgumentException>(() => layer.call(zeros(1, 6, 5, 5)));
        Assert.Contains("[batch, 8, height, width]", error.Message);
    }

    [Fact]
    public void State_dict_round_trips_through_a_file_with_stable_keys()
    {
        torch.random.manual_seed(11);
        using var saved = new HetConv2d(16, 24, 3, 4, bias: true);
        var path = Path.Combine(Path.GetTempPath(), $"hetconv-{Guid.NewGuid():N}.bin");
        try
        {
            saved.save(path);
            using var loaded = new HetConv2d(16, 24, 3, 4, bias: true);
            loaded.load(path);
            Assert.Equal(new[] { "kxk_weight", "pointwise_weight", "bias" }, loaded.state_dict().Keys);
            var x = randn(2, 16, 8, 8);
            Assert.True(loaded.call(x).allclose(saved.call(x), rtol: 0, atol: 0));
            Assert.Equal(new long[] { 24, 4, 3, 3 }, loaded.state_dict()["kxk_weight"].shape);
            Assert.Equal(new long[] { 24, 12 }, loaded.state_dict()["pointwise_weight"].shape);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(8, 12, 4)]
    [InlineData(12, 10, 3)]  // P does not divide N: runs of 4, 3, 3
    [InlineData(6, 5, 6)]
    public void Blocked_spans_the_shifted_family_up_to_channel_permutations(int m, int n, int p)
    {
        torch.random.manual_seed(5);
        using var shifted = new HetConv2d(m, n, 3, p);
        using var blocked = new HetConv2d(m, n, 3, p, arrangement: HetConvArrangement.Blocked);

        // Input channel m' = r*(M/P) + j holds shifted channel r + P*j; output n' runs over residue classes in turn.
        var inputOrder = Enumerable.Range(0, p).SelectMany(r => Enumerable.Range(0, m / p).Select(j => (long)(r + p * j))).ToArray();
        var outputOrder = Enumerable.Range(0, p).SelectMany(r => Enumerable.Range(0, n).Where(f => f % p == r)).Select(f => (long)f).ToArray();
        using var inIndex = tensor(inputOrder);
        using var outIndex = tensor(outputOrder);

        using var permutedDense = shifted.DenseWeight().detach().index_select(0, outIndex).index_select(1, inIndex);
        blocked.CopyFromDense(permutedDense);
        Assert.True(blocked.DenseWeight().allclose(permutedDense, rtol: 0, atol: 0), "the permuted weight is not in the blocked family");

        var x = randn(2, m, 6, 6);
        TensorAssert.Close(blocked.call(x.index_select(1, inIndex)), shifted.call(x).index_select(1, outIndex));
    }

    [Fact]
    public void Copy_from_dense_keeps_the_pattern_taps_and_the_centre_elsewhere()
    {
        torch.random.manual_seed(9);
        using var layer = new HetConv2d(8, 4, 3, 2);
        var dense = randn(4, 8, 3, 3);
        layer.CopyFromDense(dense);
        var kept = layer.DenseWeight();
        for (int f = 0; f < 4; f++)
        for (int ch = 0; ch < 8; ch++)
        {
            if ((ch - f) % 2 == 0) Assert.True(kept[f, ch].allclose(dense[f, ch], rtol: 0, atol: 0));
            else Assert.Equal(dense[f, ch, 1, 1].item<float>(), kept[f, ch, 1, 1].item<float>());
        }
        Assert.Throws<ArgumentException>(() => layer.CopyFromDense(randn(4, 8, 5, 5)));
    }

    [Fact]
    public void Part_one_is_a_standard_convolution()
    {
        torch.random.manual_seed(13);
        using var layer = new HetConv2d(6, 9, 3, 1, stride: 2);
        using var conv = torch.nn.Conv2d(6, 9, 3, stride: 2, padding: 1, bias: false);
        using (torch.no_grad()) conv.weight!.copy_(layer.KxkWeight);
        var x = randn(3, 6, 11, 11);
        TensorAssert.Close(layer.call(x), conv.call(x));
    }
}
