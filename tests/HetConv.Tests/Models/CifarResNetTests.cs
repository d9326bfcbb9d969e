using HetConv.Layers;
using HetConv.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Models;

public class CifarResNetTests
{
    [Theory]
    [InlineData("resnet20")]
    [InlineData("resnet32")]
    [InlineData("resnet44")]
    [InlineData("resnet56")]
    [InlineData("resnet110")]
    public void Each_depth_trains_one_step_on_cifar_shaped_input(string name)
    {
        torch.random.manual_seed(11);
        using var model = ModelZoo.Create(name, ConvOptions.HetConv(4), numClasses: 10);
        ModelAssert.TrainsOneStep(model, new long[] { 2, 3, 32, 32 }, 10);
    }

    [Fact]
    public void Blocks_run_channels_last_even_on_one_channel_input()
    {
        // A 1-channel NCHW batch is also channels-last by its strides, so convolutions would keep it NCHW.
        using var model = ModelZoo.Create("resnet20", ConvOptions.Standard, numClasses: 10, inChannels: 1);
        model.train();
        var seen = new List<bool>();
        var firstBlock = model.named_modules().First(m => m.name == "layer1.0").module as nn.Module<Tensor, Tensor>;
        firstBlock!.register_forward_pre_hook((_, x) => { seen.Add(x.permute(0, 2, 3, 1).is_contiguous()); return x; });
        using var scope = NewDisposeScope();
        model.call(randn(2, 1, 28, 28));
        Assert.Equal(new[] { true }, seen);
    }

    public static TheoryData<string> Kinds => new() { "standard", "p2", "pc", "gwc4", "dwc", "p4-se" };

    private static ConvOptions Options(string kind) => kind switch
    {
        "standard" => ConvOptions.Standard,
        "p2" => ConvOptions.HetConv(2),
        "pc" => ConvOptions.PerChannel,
        "gwc4" => ConvOptions.GroupwisePointwise(4),
        "dwc" => ConvOptions.DepthwisePointwise,
        "p4-se" => ConvOptions.HetConv(4).WithSqueezeExcitation(),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_convolution_kind_trains_on_one_channel_28x28(string kind)
    {
        torch.random.manual_seed(12);
        using var model = ModelZoo.Create("resnet20", Options(kind), numClasses: 7, inChannels: 1);
        ModelAssert.TrainsOneStep(model, new long[] { 3, 1, 28, 28 }, 7);
    }

    [Fact]
    public void Standard_resnet20_and_resnet56_have_he_et_al_parameter_counts()
    {
        // ResNet-20 by hand: stem 3*16*9 + BN 32; stage 1: 6 convs 16*16*9 + BN 32 each; stage 2: 16*32*9 + 5 * 32*32*9,
        // BN 64 each; stage 3: 32*64*9 + 5 * 64*64*9, BN 128 each; fc 64*10 + 10. Option-A shortcuts add nothing.
        long resnet20 = 3 * 16 * 9 + 32
                        + 6 * (16 * 16 * 9 + 32)
                        + (16 * 32 * 9 + 64) + 5 * (32 * 32 * 9 + 64)
                        + (32 * 64 * 9 + 128) + 5 * (64 * 64 * 9 + 128)
                        + 64 * 10 + 10;
        Assert.Equal(269_722, resnet20);
        using var model20 = ModelZoo.Create("resnet20");
        Assert.Equal(resnet20, ModelAssert.ParameterCount(model20));
        using var model56 = ModelZoo.Create("resnet56");
        Assert.Equal(853_018, ModelAssert.ParameterCount(model56));
    }

    [Fact]
    public void Every_conv_but_the_stem_becomes_hetconv_with_the_part_asked()
    {
        using var model = ModelZoo.Create("resnet56", ConvOptions.HetConv(4));
        var convs = model.named_modules().Where(m => m.module is HetConv2d or TorchSharp.Modules.Conv2d).ToList();
        Assert.Equal(55, convs.Count);
        Assert.Equal("conv1", convs[0].name);
        Assert.IsType<TorchSharp.Modules.Conv2d>(convs[0].module);
        Assert.All(convs.Skip(1), c => Assert.Equal(4, Assert.IsType<HetConv2d>(c.module).Part));

        using var pc = ModelZoo.Create("resnet20", ConvOptions.PerChannel);
        Assert.All(pc.modules().OfType<HetConv2d>(), h => Assert.Equal(h.InChannels, h.Part));
    }

    [Fact]
    public void Stage_transitions_subsample_and_zero_pad_the_shortcut()
    {
        using var shortcut = new ZeroPadShortcut(16, 32, 2);
        var x = arange(2 * 16 * 4 * 4, dtype: ScalarType.Float32).reshape(2, 16, 4, 4);
        var y = shortcut.call(x);
        Assert.Equal(new long[] { 2, 32, 2, 2 }, y.shape);
        Assert.Equal(0f, y[.., ..8].abs().sum().item<float>());
        Assert.Equal(0f, y[.., 24..].abs().sum().item<float>());
        Assert.Equal(x[1, 5, 2, 2].item<float>(), y[1, 8 + 5, 1, 1].item<float>());
        Assert.Empty(shortcut.parameters());
    }

    [Fact]
    public void Zoo_names_are_case_insensitive_and_unknown_names_list_the_known_ones()
    {
        using var model = ModelZoo.Create("ResNet20");
        Assert.IsType<CifarResNet>(model);
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("resnet21"));
        Assert.Contains("resnet56", e.Message);
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("resnet20", ConvOptions.HetConv(32)));
    }

    [Fact]
    public void Command_line_words_parse_to_options()
    {
        Assert.Equal(ConvOptions.HetConv(4), ConvOptions.Parse(null, "4"));
        Assert.Equal(ConvOptions.PerChannel, ConvOptions.Parse(null, "C"));
        Assert.Equal(ConvOptions.Standard, ConvOptions.Parse(null, null));
        Assert.Equal(ConvOptions.GroupwisePointwise(8), ConvOptions.Parse("gwc-pwc", null, 8));
        Assert.Equal(ConvOptions.DepthwisePointwise.WithSqueezeExcitation(), ConvOptions.Parse("dwc-pwc", null, null, true));
        Assert.Equal("P4_SE", ConvOptions.Parse("hetconv", "4", null, true).ToString());
        Assert.Throws<ArgumentException>(() => ConvOptions.Parse(null, "x"));
        Assert.Throws<ArgumentException>(() => ConvOptions.Parse("dwc-pwc", "4"));
        Assert.Throws<ArgumentException>(() => ConvOptions.Parse("winograd", null));
    }
}
