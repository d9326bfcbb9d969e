using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Profiling;
using HetConv.Tests.Layers.Execution;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Conv2d = TorchSharp.Modules.Conv2d;

namespace HetConv.Tests.Conversion;

public class HetConvConverterTests
{
    private static Dictionary<string, LayerProfile> Layers(nn.Module<Tensor, Tensor> model, long[] input, FlopConvention convention) =>
        ModelProfiler.Profile(model, input, convention).Layers.ToDictionary(l => l.Name);

    [Fact]
    public void Resnet18_becomes_hetconv_and_every_replaced_layer_runs()
    {
        torch.random.manual_seed(31);
        using var model = torchvision.models.resnet18(num_classes: 10);
        long[] input = { 3, 64, 64 };
        var before = Layers(model, input, FlopConvention.Paper);
        var beforeMacs = Layers(model, input, FlopConvention.Macs);

        var report = HetConvConverter.Convert(model, new ConversionOptions { Part = 4 });

        // 4 stages x 2 blocks x 2 3x3 convs; the stem and the three 1x1 projections stay.
        Assert.Equal(16, report.Replaced.Count);
        Assert.Contains(report.Skipped, s => s.Name == "conv1" && s.Reason.Contains("stem"));
        Assert.Equal(3, report.Skipped.Count(s => s.Reason.Contains("1x1")));
        var hets = model.named_modules().Where(m => m.module is HetConv2d).ToList();
        Assert.Equal(report.Replaced.Select(r => r.Name).OrderBy(n => n), hets.Select(h => h.name).OrderBy(n => n));
        Assert.Contains("layer2.0.conv1.kxk_weight", model.state_dict().Keys);
        Assert.DoesNotContain("layer2.0.conv1.weight", model.state_dict().Keys);
        Assert.Equal(report.Replaced.Count, model.modules().OfType<HetConv2d>().Count());
        Assert.DoesNotContain(model.modules().OfType<Conv2d>(), c => c.kernel_size[0] == 3 && c.in_channels > 3);

        // A hook on every new layer: one forward pass calls each exactly once.
        var calls = new Dictionary<string, int>();
        foreach (var (name, module) in hets)
            ((HetConv2d)module).register_forward_hook((m, x, y) => { calls[name] = calls.GetValueOrDefault(name) + 1; return null!; });
        model.eval();
        using var x = randn(2, 3, 64, 64);
        using var y = model.call(x);
        Assert.Equal(new long[] { 2, 10 }, y.shape);
        Assert.Equal(hets.Select(h => h.name).OrderBy(n => n), calls.Keys.OrderBy(n => n));
        Assert.All(calls.Values, c => Assert.Equal(1, c));

        // Replaced layers cost 1/P + (1 - 1/P)/K^2 = 1/3 of the dense ones (both conventions at P = 4, K = 3);
        // everything else is unchanged.
        var after = Layers(model, input, FlopConvention.Paper);
        var afterMacs = Layers(model, input, FlopConvention.Macs);
        foreach (var name in before.Keys)
        {
            bool wasReplaced = report.Replaced.Any(r => r.Name == name);
            Assert.Equal(wasReplaced ? before[name].Flops / 3 : before[name].Flops, after[name].Flops, 3);
            Assert.Equal(wasReplaced ? beforeMacs[name].Flops / 3 : beforeMacs[name].Flops, afterMacs[name].Flops, 3);
        }
    }

    [Fact]
    public void Changing_a_replaced_layers_weights_changes_the_output()
    {
        torch.random.manual_seed(32);
        using var model = torchvision.models.resnet18(num_classes: 10);
        HetConvConverter.Convert(model, new ConversionOptions { Part = 2 });
        model.eval();
        using var x = randn(1, 3, 32, 32);
        using var y0 = model.call(x).detach().clone();
        var het = (HetConv2d)model.named_modules().Single(m => m.name == "layer3.1.conv2").module;
        using (no_grad()) het.KxkWeight.mul_(3);
        using var y1 = model.call(x);
        TensorAssert.Differ(y1, y0, "output after the change", rtol: 1e-3, atol: 1e-5);
    }

    [Fact]
    public void Vgg16_bn_with_dense_initialisation_at_p1_computes_the_same_function()
    {
        // P = 1 keeps every tap, so a dense-initialised conversion must reproduce the original outputs exactly:
        // the new layers are the ones running, with the weights and biases they were given.
        torch.random.manual_seed(33);
        using var model = torchvision.models.vgg16_bn(num_classes: 10);
        model.eval();
        using var x = randn(2, 3, 32, 32);
        using var expected = model.call(x).detach().clone();
        var report = HetConvConverter.Convert(model, new ConversionOptions { Part = 1, InitializeFromDense = true });
        Assert.Equal(12, report.Replaced.Count);
        Assert.Equal("features.0", Assert.Single(report.Skipped).Name);
        Assert.All(model.modules().OfType<HetConv2d>(), h => Assert.NotNull(h.Bias));
        // Every strategy, pinned: the fused kernel sums in another order than oneDNN, so through 13 layers the
        // outputs agree to float32 rounding (about 1e-6 of the largest), not bit for bit.
        foreach (var execution in HetConvExecutions.All.Append(HetConvExecutions.Auto))
        {
            model.UseExecution(execution);
            Tensor actual = null!;
            var (forward, _) = FusedKernel.Calls(() => actual = model.call(x));
            if (execution == HetConvExecutions.FusedNhwc)   // all 12 replaced layers on the kernel, where this CPU has it
                Assert.Equal(FusedKernel.IsSupported ? 12 : 0, forward);
            TensorAssert.Close(actual, expected, rtol: 1e-3, what: $"converted vgg16_bn output ({execution.Name})");
        }
    }

    [Fact]
    public void Vgg16_bn_at_p4_cuts_the_replaced_layers_flops_by_the_formula()
    {
        torch.random.manual_seed(34);
        using var model = torchvision.models.vgg16_bn(num_classes: 10);
        long[] input = { 3, 32, 32 };
        using var original = ((Conv2d)model.named_modules().Single(m => m.name == "features.3").module).weight.detach().clone();
        var before = Layers(model, input, FlopConvention.Paper);
        var report = HetConvConverter.Convert(model, new ConversionOptions { Part = 4, InitializeFromDense = true });
        var after = Layers(model, input, FlopConvention.Paper);
        foreach (var r in report.Replaced)
            Assert.Equal(before[r.Name].Flops / 3, after[r.Name].Flops, 3);
        Assert.Equal(before["features.0"].Flops, after["features.0"].Flops);

        // Dense initialisation: filter n keeps the whole 3x3 kernel on channels m with (m - n) mod 4 == 0 and the
        // centre tap on the others.
        var het = (HetConv2d)model.named_modules().Single(m => m.name == "features.3").module;
        using var dense = het.DenseWeight();
        var w = original.data<float>().ToArray();
        var d = dense.data<float>().ToArray();
        for (int n = 0; n < 64; n++)
        for (int m = 0; m < 64; m++)
        for (int tap = 0; tap < 9; tap++)
        {
            int at = (n * 64 + m) * 9 + tap;
            bool kept = (m - n) % 4 == 0 || tap == 4;
            Assert.Equal(kept ? w[at] : 0f, d[at]);
        }
    }

    [Theory]
    [InlineData("resnet34", 32)]
    [InlineData("resnet50", 16)]
    public void Deeper_torchvision_resnets_convert_every_3x3_but_the_stem(string name, int expected)
    {
        using var model = name == "resnet34" ? torchvision.models.resnet34(num_classes: 10) : torchvision.models.resnet50(num_classes: 10);
        var report = HetConvConverter.Convert(model, new ConversionOptions { Part = 4 });
        Assert.Equal(expected, report.Replaced.Count);
        Assert.All(report.Replaced, r => Assert.Contains("kernel_size=3x3", r.Before));
        model.eval();
        using var y = model.call(randn(1, 3, 64, 64));
        Assert.Equal(new long[] { 1, 10 }, y.shape);
    }

    [Fact]
    public void Mobilenet_v2_skips_depthwise_convolutions_and_says_why()
    {
        using var model = torchvision.models.mobilenet_v2(num_classes: 10);
        var report = HetConvConverter.Convert(model, new ConversionOptions { Part = 4 });
        Assert.Empty(report.Replaced);
        Assert.Equal(17, report.Skipped.Count(s => s.Reason == "depth-wise convolution"));
        Assert.Contains(report.Skipped, s => s.Name == "features.0.0" && s.Reason.Contains("stem"));
        using var y = model.call(randn(2, 3, 32, 32));
        Assert.Equal(new long[] { 2, 10 }, y.shape);
    }

    [Fact]
    public void The_stem_can_be_converted_when_the_part_fits_it()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);
        var p4 = HetConvConverter.Convert(model, new ConversionOptions { Part = 4, KeepStem = false });
        Assert.Contains(p4.Skipped, s => s.Name == "conv1" && s.Reason.Contains("does not divide its 3 input channels"));

        using var other = torchvision.models.resnet18(num_classes: 10);
        var pc = HetConvConverter.Convert(other, new ConversionOptions { PerChannel = true, KeepStem = false });
        Assert.Contains(pc.Replaced, r => r.Name == "conv1");
        Assert.Equal(3, ((HetConv2d)other.named_modules().Single(m => m.name == "conv1").module).Part);
        Assert.Throws<ArgumentException>(() => HetConvConverter.Convert(other, new ConversionOptions { StemName = "stem" }));
    }

    private sealed class NarrowField : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv = Conv2d(8, 8, 3, padding: 1);
        public NarrowField() : base(nameof(NarrowField)) => RegisterComponents();
        public override Tensor forward(Tensor input) => conv.call(input);
    }

    [Fact]
    public void A_convolution_held_in_a_field_that_cannot_take_hetconv_is_skipped_with_the_reason()
    {
        using var model = Sequential(("stem", Conv2d(3, 8, 3, padding: 1)), ("block", new NarrowField()));
        var report = HetConvConverter.Convert(model, new ConversionOptions { Part = 2 });
        Assert.Empty(report.Replaced);
        var skipped = Assert.Single(report.Skipped, s => s.Name == "block.conv");
        Assert.Contains("cannot hold a HetConv2d", skipped.Reason);
        using var y = model.call(randn(1, 3, 6, 6));
        Assert.Equal(new long[] { 1, 8, 6, 6 }, y.shape);
    }

    [Fact]
    public void A_shared_convolution_becomes_one_shared_hetconv()
    {
        var shared = Conv2d(8, 8, 3, padding: 1, bias: false);
        using var model = Sequential(("stem", Conv2d(3, 8, 3, padding: 1)), ("a", shared), ("b", shared));
        var report = HetConvConverter.Convert(model, new ConversionOptions { Part = 2 });
        Assert.Equal(new[] { "a", "b" }, report.Replaced.Select(r => r.Name));
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        Assert.IsType<HetConv2d>(children["a"]);
        Assert.Same(children["a"], children["b"]);
        var profile = ModelProfiler.Profile(model, new long[] { 3, 4, 4 }, FlopConvention.Macs);
        // Called twice: 2 * 4*4 * 8 * (4*9 + 4) MACs.
        Assert.Equal(2 * 4 * 4 * 8 * (4 * 9 + 4), profile.Layers.Single(l => l.Name == "a").FlopCount);
    }
}
