using System.Text.Json;
using HetConv.Models;
using HetConv.Profiling;

namespace HetConv.Tests.Cli;

/// <summary>
/// <c>hetconv flops --json</c> and <c>hetconv bench --json</c> as a user runs them: the printed JSON, parsed, holds
/// the right numbers, not just an exit code of 0.
/// </summary>
public class JsonOutputTests
{
    // A guard against a hang, not a speed limit: on a machine shared with other builds a bench run has taken 5 minutes.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    private static JsonElement Run(params string[] args)
    {
        var (code, output, error) = CliProcess.Run(Timeout, args);
        Assert.True(code == 0, $"hetconv {string.Join(' ', args)} exited {code}:\n{error}");
        using var json = JsonDocument.Parse(output);
        return json.RootElement.Clone();
    }

    // ResNet-56 on CIFAR by hand (as in ModelProfilerTests): the stem 3->16, 18 convs 16->16 at 32x32, at 16x16 one
    // 16->32 and 17 32->32, at 8x8 one 32->64 and 17 64->64, each Do^2 N (M 9 [+ 1]); then fc 64 x 10.
    private static long ResNet56(bool plusOne)
    {
        long c = plusOne ? 1 : 0;
        return 32 * 32 * 16 * (27 + c)
               + 18L * 32 * 32 * 16 * (144 + c)
               + 16 * 16 * 32 * (144 + c) + 17L * 16 * 16 * 32 * (288 + c)
               + 8 * 8 * 64 * (288 + c) + 17L * 8 * 8 * 64 * (576 + c)
               + 64 * 10;
    }

    [Theory]
    [InlineData("paper", "1")]
    [InlineData("paper", "4")]
    [InlineData("macs", "1")]
    public void Flops_json_of_resnet56_is_the_hand_count_and_the_profilers(string convention, string part)
    {
        var root = Run("flops", "--model", "resnet56", "--part", part, "--convention", convention, "--json");
        Assert.Equal("resnet56", root.GetProperty("model").GetString());
        Assert.Equal(convention, root.GetProperty("convention").GetString());
        Assert.Equal(new long[] { 3, 32, 32 }, root.GetProperty("input").EnumerateArray().Select(e => e.GetInt64()));
        long flops = root.GetProperty("flops").GetInt64(), parameters = root.GetProperty("params").GetInt64();

        var options = part == "1" ? ConvOptions.Standard : ConvOptions.HetConv(int.Parse(part));
        using var model = ModelZoo.Create("resnet56", options);
        var profile = ModelProfiler.Profile(model, new long[] { 3, 32, 32 }, convention == "paper" ? FlopConvention.Paper : FlopConvention.Macs);
        Assert.Equal(profile.FlopCount, flops);
        Assert.Equal(profile.Params, parameters);
        Assert.Equal(profile.Buffers, root.GetProperty("buffers").GetInt64());

        long standard = ResNet56(plusOne: convention == "paper");
        if (part == "1")
            Assert.Equal(standard, flops);   // paper: 126,018,176, the paper's 126.01M; MACs: 125,485,696
        else
        {
            // At P = 4 every conv but the stem costs 1/4 + (3/4)/9 = 1/3: the paper's 66.45% less, ours 66.42%.
            double others = standard - 32 * 32 * 16 * 28 - 640;
            Assert.Equal(Math.Round(standard - others * 2 / 3), flops);
            Assert.InRange(ModelProfile.ReductionPercent(standard, flops), 66.45 - 0.1, 66.45 + 0.1);
        }

        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(profile.Layers.Count, layers.Count);
        Assert.Equal(layers.Count, layers.Select(l => l.GetProperty("name").GetString()).Distinct().Count());
        Assert.Equal(parameters, layers.Sum(l => l.GetProperty("params").GetInt64()));
        Assert.All(layers, l => Assert.True(l.GetProperty("flops").GetInt64() >= 0));
        // Layers' counts are each rounded to whole numbers: their sum is the total to within half a FLOP per layer.
        Assert.InRange(layers.Sum(l => l.GetProperty("flops").GetInt64()) - flops, -layers.Count / 2, layers.Count / 2);
        Assert.Equal(55, layers.Count(l => l.GetProperty("type").GetString() is "Conv2d" or "HetConv2d"));   // the stem and 54 in blocks
    }

    /// <summary>The fields of a bench row that must hold whatever the machine's speed.</summary>
    internal static void AssertConsistent(JsonElement row)
    {
        double standard = row.GetProperty("standard_ms").GetDouble(), hetconv = row.GetProperty("hetconv_ms").GetDouble();
        Assert.True(double.IsFinite(standard) && standard > 0, $"standard_ms {standard}");
        Assert.True(double.IsFinite(hetconv) && hetconv > 0, $"hetconv_ms {hetconv}");
        Assert.Equal(standard / hetconv, row.GetProperty("speedup").GetDouble(), 9);
        var candidates = row.GetProperty("candidates").EnumerateObject().ToList();
        foreach (var c in candidates)
        {
            double p10 = c.Value.GetProperty("p10_ms").GetDouble(), median = c.Value.GetProperty("median_ms").GetDouble(),
                p90 = c.Value.GetProperty("p90_ms").GetDouble();
            Assert.True(double.IsFinite(p10) && 0 < p10 && p10 <= median && median <= p90 && double.IsFinite(p90),
                $"{c.Name}: p10 {p10}, median {median}, p90 {p90}");
        }
        // The best of each side is its fastest candidate, and the row's time is that candidate's median.
        foreach (var (kind, best, ms) in new[] { ("standard", "best_standard", standard), ("hetconv", "best_hetconv", hetconv) })
        {
            var ofKind = candidates.Where(c => c.Value.GetProperty("kind").GetString() == kind).ToList();
            Assert.NotEmpty(ofKind);
            var fastest = ofKind.MinBy(c => c.Value.GetProperty("median_ms").GetDouble());
            Assert.Equal(fastest.Name, row.GetProperty(best).GetString());
            Assert.Equal(fastest.Value.GetProperty("median_ms").GetDouble(), ms);
        }
    }

    [Fact]
    public void Bench_json_of_a_model_has_a_consistent_row_for_every_mode()
    {
        // Each mode builds and times some twenty networks: one batch size keeps the test short.
        var rows = Run("bench", "--model", "resnet20", "--part", "4", "--batch", "2", "--mode", "inference,training",
            "--repetitions", "1", "--json").EnumerateArray().ToList();
        Assert.Equal(new[] { ("inference", 2), ("training", 2) },
            rows.Select(r => (r.GetProperty("mode").GetString()!, r.GetProperty("batch").GetInt32())));
        // The FLOPs ratio is the MAC counts' of the standard and the P4 model, whatever the batch.
        double ratio;
        using (var standard = ModelZoo.Create("resnet20"))
        using (var het = ModelZoo.Create("resnet20", ConvOptions.HetConv(4)))
            ratio = ModelProfiler.Profile(standard, new long[] { 3, 32, 32 }, FlopConvention.Macs).Flops
                    / ModelProfiler.Profile(het, new long[] { 3, 32, 32 }, FlopConvention.Macs).Flops;
        Assert.InRange(ratio, 2.5, 3.0);   // 3x on every conv but the stem
        foreach (var row in rows)
        {
            Assert.Equal("resnet20", row.GetProperty("model").GetString());
            Assert.Equal("P4", row.GetProperty("part").GetString());
            Assert.Equal(ratio, row.GetProperty("flops_ratio").GetDouble(), 9);
            AssertConsistent(row);
        }
    }

    [Fact]
    public void Bench_json_of_a_layer_has_a_consistent_row_for_every_batch_and_part_and_the_papers_flops_ratio()
    {
        var rows = Run("bench", "--layers", "resnet56", "--only", "stage3", "--part", "2,4", "--batch", "1,2",
            "--mode", "inference", "--repetitions", "1", "--json").EnumerateArray().ToList();
        Assert.Equal(new[] { (1, 2), (1, 4), (2, 2), (2, 4) },
            rows.Select(r => (r.GetProperty("batch").GetInt32(), r.GetProperty("part").GetInt32())));
        foreach (var row in rows)
        {
            Assert.Equal(("stage3", 64, 64, 8, 1, "inference"), (row.GetProperty("layer").GetString(), row.GetProperty("in_channels").GetInt32(),
                row.GetProperty("out_channels").GetInt32(), row.GetProperty("size").GetInt32(), row.GetProperty("stride").GetInt32(),
                row.GetProperty("mode").GetString()));
            // 1 / (1/P + (1 - 1/P)/9): 9/5 at P = 2, 3 at P = 4.
            Assert.Equal(row.GetProperty("part").GetInt32() == 2 ? 1.8 : 3.0, row.GetProperty("flops_ratio").GetDouble(), 9);
            AssertConsistent(row);
        }
    }
}
