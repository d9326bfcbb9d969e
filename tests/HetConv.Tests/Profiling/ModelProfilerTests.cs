using System.Text.Json;
using HetConv.Layers;
using HetConv.Models;
using HetConv.Profiling;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Tests.Profiling;

public class ModelProfilerTests
{
    private static LayerProfile Only(Func<nn.Module<Tensor, Tensor>> layer, long[] input, FlopConvention convention)
    {
        using var model = Sequential(("layer", layer()));
        return Assert.Single(ModelProfiler.Profile(model, input, convention).Layers, l => l.Name == "layer");
    }

    [Fact]
    public void Standard_convolution_counts_macs_and_the_papers_plus_one()
    {
        // 16 -> 32, 3x3, stride 2, padding 1 on 15x15: Do = 8. MACs 8*8*32*16*9; paper 8*8*32*(16*9 + 1).
        var conv = () => Conv2d(16, 32, 3, stride: 2, padding: 1, bias: false);
        Assert.Equal(294_912, Only(conv, new long[] { 16, 15, 15 }, FlopConvention.Macs).FlopCount);
        var paper = Only(conv, new long[] { 16, 15, 15 }, FlopConvention.Paper);
        Assert.Equal(296_960, paper.FlopCount);
        Assert.Equal(32 * 16 * 9, paper.Params);
    }

    [Fact]
    public void Grouped_and_depthwise_convolutions_divide_by_the_groups()
    {
        // 16 -> 16 on 8x8, 4 groups: 8*8*16*(4*9) MACs, 8*8*16*(4*9 + 1) paper. Depth-wise: 8*8*16*9 and 8*8*16*10.
        var grouped = () => Conv2d(16, 16, 3, padding: 1, groups: 4, bias: false);
        Assert.Equal(36_864, Only(grouped, new long[] { 16, 8, 8 }, FlopConvention.Macs).FlopCount);
        Assert.Equal(37_888, Only(grouped, new long[] { 16, 8, 8 }, FlopConvention.Paper).FlopCount);
        var depthwise = () => Conv2d(16, 16, 3, padding: 1, groups: 16, bias: false);
        Assert.Equal(9_216, Only(depthwise, new long[] { 16, 8, 8 }, FlopConvention.Macs).FlopCount);
        Assert.Equal(10_240, Only(depthwise, new long[] { 16, 8, 8 }, FlopConvention.Paper).FlopCount);
    }

    [Fact]
    public void Hetconv_counts_its_kernels_and_the_papers_ratio()
    {
        // 16 -> 32, P = 4 on 8x8: each filter has 4 3x3 and 12 1x1 kernels: 8*8*32*(4*9 + 12) MACs.
        // Paper: 8*8*32*(16*9 + 1) * (1/4 + (3/4)/9) = 296,960 / 3 = 98,986.67.
        var het = () => new HetConv2d(16, 32, 3, part: 4);
        Assert.Equal(98_304, Only(het, new long[] { 16, 8, 8 }, FlopConvention.Macs).FlopCount);
        var paper = Only(het, new long[] { 16, 8, 8 }, FlopConvention.Paper);
        Assert.Equal(296_960 / 3.0, paper.Flops, 6);
        Assert.Equal(98_987, paper.FlopCount);
        Assert.Equal(32 * (4 * 9 + 12), paper.Params);
    }

    [Fact]
    public void Linear_counts_in_times_out_and_bn_only_its_parameters_and_buffers()
    {
        using var model = Sequential(("bn", BatchNorm1d(100)), ("fc", Linear(100, 7)));
        var profile = ModelProfiler.Profile(model, new long[] { 3, 100 }, FlopConvention.Paper);
        var fc = profile.Layers.Single(l => l.Name == "fc");
        Assert.Equal(3 * 100 * 7, fc.FlopCount);
        Assert.Equal(100 * 7 + 7, fc.Params);
        var bn = profile.Layers.Single(l => l.Name == "bn");
        Assert.Equal(0, bn.FlopCount);
        Assert.Equal(200, bn.Params);
        Assert.Equal(100 + 100 + 1, bn.Buffers);
        Assert.Equal(200 + 707, profile.Params);
    }

    [Fact]
    public void A_module_called_twice_counts_twice_and_is_listed_once()
    {
        var shared = Conv2d(8, 8, 3, padding: 1, bias: false);
        using var model = Sequential(("a", shared), ("b", shared));
        var profile = ModelProfiler.Profile(model, new long[] { 8, 4, 4 }, FlopConvention.Macs);
        var layer = Assert.Single(profile.Layers);
        Assert.Equal(2 * 4 * 4 * 8 * 8 * 9, layer.FlopCount);
        Assert.Equal(8 * 8 * 9, profile.Params);
    }

    [Fact]
    public void Profiling_leaves_the_training_mode_as_it_was()
    {
        using var model = ModelZoo.Create("resnet20");
        model.train();
        ModelProfiler.Profile(model, new long[] { 3, 32, 32 }, FlopConvention.Macs);
        Assert.True(model.training);
        Assert.All(model.modules(), m => Assert.True(m.training));
    }

    [Fact]
    public void Resnet56_totals_126_01m_under_the_paper_convention()
    {
        // By hand, Do^2 * N * (M*9 + 1) per 3x3 conv: the stem 32*32*16*(3*9+1); 18 convs 16->16 at 32x32;
        // at 16x16 one 16->32 and 17 32->32; at 8x8 one 32->64 and 17 64->64; fc 64*10.
        long expected = 32 * 32 * 16 * 28
                        + 18L * 32 * 32 * 16 * 145
                        + 16 * 16 * 32 * 145 + 17L * 16 * 16 * 32 * 289
                        + 8 * 8 * 64 * 289 + 17L * 8 * 8 * 64 * 577
                        + 64 * 10;
        Assert.Equal(126_018_176, expected);
        using var p1 = ModelZoo.Create("resnet56");
        var profile = ModelProfiler.Profile(p1, new long[] { 3, 32, 32 }, FlopConvention.Paper);
        Assert.Equal(expected, profile.FlopCount);
        Assert.Equal(126.01, ModelProfile.TruncatedMillions(profile.Flops));

        // Every conv but the stem scaled by 1/P + (1 - 1/P)/9: 5/9 at P = 2, 1/3 at P = 4.
        double others = expected - 32 * 32 * 16 * 28 - 64 * 10;
        foreach (var (part, ratio, paperReduction) in new[] { (2, 5.0 / 9, 44.30), (4, 1.0 / 3, 66.45) })
        {
            using var model = ModelZoo.Create("resnet56", ConvOptions.HetConv(part));
            double flops = ModelProfiler.Profile(model, new long[] { 3, 32, 32 }, FlopConvention.Paper).Flops;
            Assert.Equal(expected - others * (1 - ratio), flops, 3);
            Assert.InRange(ModelProfile.ReductionPercent(expected, flops), paperReduction - 0.1, paperReduction + 0.1);
        }
    }

    [Fact]
    public void Vgg16_cifar_p1_to_p64_flops_equal_table_1()
    {
        // P1 by hand: Do^2 * N * (M*9 + 1) for the 13 convs, then 512*512 + 512*10 for the classifier.
        long p1 = 32 * 32 * 64 * 28 + 32 * 32 * 64 * 577
                  + 16 * 16 * 128 * 577 + 16 * 16 * 128 * 1153
                  + 8 * 8 * 256 * 1153 + 2 * 8 * 8 * 256 * 2305
                  + 4 * 4 * 512 * 2305 + 2 * 4 * 4 * 512 * 4609
                  + 3 * 2 * 2 * 512 * 4609
                  + 512 * 512 + 512 * 10;
        Assert.Equal(313_740_288, p1);
        var table1 = new Dictionary<int, double> { [1] = 313.74, [2] = 175.23, [4] = 105.98, [8] = 71.35, [16] = 54.04, [32] = 45.38, [64] = 41.05 };
        foreach (var (part, paper) in table1)
        {
            using var model = ModelZoo.Create("vgg16-cifar", ConvOptions.HetConv(part));
            var profile = ModelProfiler.Profile(model, new long[] { 3, 32, 32 }, FlopConvention.Paper);
            if (part == 1) Assert.Equal(p1, profile.FlopCount);
            // The 12 convs after the stem scale by 1/P + (1 - 1/P)/9.
            double ratio = 1.0 / part + (1 - 1.0 / part) / 9;
            Assert.Equal(p1 - (p1 - 32 * 32 * 64 * 28 - 512 * 512 - 512 * 10) * (1 - ratio), profile.Flops, 3);
            Assert.Equal(paper, ModelProfile.TruncatedMillions(profile.Flops));
        }
    }

    [Fact]
    public void Every_table_1_and_table_3_row_is_within_tolerance_or_an_explained_parameter_count()
    {
        var rows = PaperTables.Rows.Where(r => r.Table is "1" or "3");
        var comparisons = PaperTableReproduction.Compare(rows);
        // Table 1: FLOPs and params for 18 rows, FLOPs reduced for 16, params reduced for 12; Table 3: 1 + 4.
        Assert.Equal(18 * 2 + 16 + 12 + 5, comparisons.Count);
        foreach (var c in comparisons)
        {
            string what = $"{c.Network} {c.Quantity}: paper {c.Paper}, ours {c.OursPrinted} ({c.Ours})";
            bool plainHetConv = c.Network.StartsWith("VGG-16_P") && !c.Network.EndsWith("_SE") && c.Network != "VGG-16_PC";
            if (c.Quantity is PaperQuantity.Flops or PaperQuantity.FlopsReduced)
                Assert.True(c.WithinTolerance, what);
            else if (plainHetConv && c.Quantity == PaperQuantity.Params)
                Assert.True(Math.Abs(c.Difference) <= 0.01 + 1e-9, what);
            else if (plainHetConv || c.Network == "VGG-16_GWC4_PWC")
                Assert.True(c.WithinTolerance, what);
            // SE, PC and DWC_PWC parameter counts differ from the paper's as docs/paper-tables.md explains.
        }
        Assert.All(comparisons.Where(c => c.Quantity == PaperQuantity.Flops && c.Network is "VGG-16_P1" or "VGG-16_P2" or "VGG-16_P4"
                or "VGG-16_P8" or "VGG-16_P16" or "VGG-16_P32" or "VGG-16_P64" or "ResNet-56_P1"),
            c => Assert.True(c.Exact, $"{c.Network}: paper {c.Paper}, ours {c.OursPrinted}"));
    }

    [Fact]
    public void Se_adds_two_linear_layers_of_c_times_c_over_8_per_block()
    {
        // VGG-16: SE after each of the 13 convs, FLOPs 2 * C * C/8 each, parameters that plus C/8 + C biases.
        long[] widths = { 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512 };
        long flops = widths.Sum(c => 2 * c * (c / 8));
        long parameters = widths.Sum(c => 2 * c * (c / 8) + c / 8 + c);
        using var plain = ModelZoo.Create("vgg16-cifar", ConvOptions.HetConv(4));
        using var se = ModelZoo.Create("vgg16-cifar", ConvOptions.HetConv(4).WithSqueezeExcitation());
        var a = ModelProfiler.Profile(plain, new long[] { 3, 32, 32 }, FlopConvention.Paper);
        var b = ModelProfiler.Profile(se, new long[] { 3, 32, 32 }, FlopConvention.Paper);
        Assert.Equal(flops, b.FlopCount - a.FlopCount);
        Assert.Equal(parameters, b.Params - a.Params);
    }

    [Fact]
    public void Resnet34_reduction_is_the_papers_once_projection_shortcuts_are_left_out()
    {
        // docs/paper-tables.md's explanation of Table 6: the paper's 64.48% is what the count gives without the three 1x1
        // projection shortcuts: Do^2 * N * (M + 1) at 28x28 (64->128), 14x14 (128->256), 7x7 (256->512).
        long shortcuts = 28 * 28 * 128 * 65 + 14 * 14 * 256 * 129 + 7 * 7 * 512 * 257;
        using var p1 = ModelZoo.Create("resnet34");
        using var p4 = ModelZoo.Create("resnet34", ConvOptions.HetConv(4));
        double a = ModelProfiler.Profile(p1, new long[] { 3, 224, 224 }, FlopConvention.Paper).Flops;
        double b = ModelProfiler.Profile(p4, new long[] { 3, 224, 224 }, FlopConvention.Paper).Flops;
        Assert.Equal(64.14, Math.Round(ModelProfile.ReductionPercent(a, b), 2));
        Assert.Equal(64.48, Math.Floor(100 * ModelProfile.ReductionPercent(a - shortcuts, b - shortcuts)) / 100);
    }

    [Fact]
    public void Table_4_mobilenet_matches_the_macs_count_and_is_within_1_percent_under_the_papers()
    {
        // docs/paper-tables.md's explanation of Table 4: without the +1 term the counts are the paper's 46.36M, 55.94M, 56.91M
        // to within 0.01M; with it they are within 1%.
        var paper = new[] { 46.36, 55.94, 56.91 };
        var options = new[] { ConvOptions.DepthwisePointwise, ConvOptions.HetConv(32), ConvOptions.HetConv(32).WithSqueezeExcitation() };
        for (int i = 0; i < 3; i++)
        {
            using var model = ModelZoo.Create("mobilenet-cifar", options[i]);
            var both = ModelProfiler.Profile(model, new long[] { 3, 32, 32 }, new[] { FlopConvention.Macs, FlopConvention.Paper });
            Assert.InRange(ModelProfile.TruncatedMillions(both[0].Flops), paper[i] - 0.011, paper[i] + 0.011);
            Assert.InRange(both[1].Flops / 1e6, paper[i] * 0.99, paper[i] * 1.01);
        }
    }

    [Fact]
    public void The_command_line_has_flops_and_tables()
    {
        var names = HetConv.Cli.HetConvCli.Build().Subcommands.Select(c => c.Name).ToList();
        Assert.Contains("flops", names);
        Assert.Contains("tables", names);
    }

    [Fact]
    public void Flops_json_has_the_documented_fields_with_integer_counts()
    {
        using var model = ModelZoo.Create("resnet20", ConvOptions.HetConv(2), inChannels: 1);
        var profile = ModelProfiler.Profile(model, new long[] { 1, 28, 28 }, FlopConvention.Paper);
        using var json = JsonDocument.Parse(ModelProfileJson.Write("resnet20", ConvOptions.HetConv(2), profile));
        var root = json.RootElement;
        Assert.Equal("resnet20", root.GetProperty("model").GetString());
        Assert.Equal("paper", root.GetProperty("convention").GetString());
        Assert.Equal(new long[] { 1, 28, 28 }, root.GetProperty("input").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(profile.FlopCount, root.GetProperty("flops").GetInt64());
        Assert.Equal(profile.Params, root.GetProperty("params").GetInt64());
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(profile.Layers.Count, layers.Count);
        var first = layers.First(l => l.GetProperty("name").GetString() == "layer1.0.conv1");
        Assert.Equal("HetConv2d", first.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Number, first.GetProperty("flops").ValueKind);
        Assert.True(first.GetProperty("flops").TryGetInt64(out _));
        Assert.Equal(16 * (8 * 9 + 8), first.GetProperty("params").GetInt64());
    }

    [Theory]
    [InlineData("flops", "--model", "resnet21")]
    [InlineData("flops", "--model", "resnet20", "--part", "3")]
    [InlineData("flops", "--model", "resnet20", "--input", "3x32")]
    [InlineData("flops", "--model", "resnet20", "--conv", "dwc-pwc", "--part", "4")]
    [InlineData("flops", "--model", "resnet20", "--classes", "0")]
    [InlineData("flops", "--model", "resnet20", "--convention", "thop")]
    public void Flops_command_reports_bad_input_as_a_usage_error(params string[] args)
    {
        Assert.Equal(2, HetConv.Cli.HetConvCli.Run(args));
    }
}
