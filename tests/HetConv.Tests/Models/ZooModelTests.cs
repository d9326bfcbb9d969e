using HetConv.Layers;
using HetConv.Models;
using TorchSharp;

namespace HetConv.Tests.Models;

public class ZooModelTests
{
    [Theory]
    [InlineData("vgg16-cifar", "P4", 3, 32)]
    [InlineData("vgg16-cifar", "PC_SE", 1, 28)]
    [InlineData("vgg16-cifar", "GWC4_PWC", 3, 32)]
    [InlineData("vgg16-cifar", "DWC_PWC", 1, 28)]
    [InlineData("mobilenet-cifar", "own", 3, 32)]
    [InlineData("mobilenet-cifar", "P32_SE", 1, 28)]
    [InlineData("vgg16", "P4", 3, 64)]
    [InlineData("resnet34", "P4_SE", 3, 64)]
    [InlineData("resnet50", "P4", 1, 64)]
    public void Model_trains_one_step_with_the_right_output_shape(string name, string kind, int channels, int size)
    {
        torch.random.manual_seed(21);
        using var model = ModelZoo.Create(name, Options(kind), numClasses: 10, inChannels: channels);
        ModelAssert.TrainsOneStep(model, new long[] { 2, channels, size, size }, 10);
    }

    private static ConvOptions? Options(string kind) => kind switch
    {
        "own" => null,
        "P4" => ConvOptions.HetConv(4),
        "P4_SE" => ConvOptions.HetConv(4).WithSqueezeExcitation(),
        "P32_SE" => ConvOptions.HetConv(32).WithSqueezeExcitation(),
        "PC_SE" => ConvOptions.PerChannel.WithSqueezeExcitation(),
        "GWC4_PWC" => ConvOptions.GroupwisePointwise(4),
        "DWC_PWC" => ConvOptions.DepthwisePointwise,
        _ => throw new ArgumentException(kind),
    };

    [Fact]
    public void Cifar_vgg16_has_li_et_al_parameter_count()
    {
        // Conv weights (no biases: BN follows), 2 BN parameters per channel, classifier 512-512 (+BN1d)-10.
        long conv = 3 * 64 * 9 + 64 * 64 * 9 + 64 * 128 * 9 + 128 * 128 * 9 + 128 * 256 * 9 + 2 * 256 * 256 * 9
                    + 256 * 512 * 9 + 5 * 512 * 512 * 9;
        long bn = 2 * (2 * 64 + 2 * 128 + 3 * 256 + 6 * 512);
        long classifier = 512 * 512 + 512 + 2 * 512 + 512 * 10 + 10;
        using var model = ModelZoo.Create("vgg16-cifar");
        Assert.Equal(conv + bn + classifier, ModelAssert.ParameterCount(model));
        Assert.Equal(13, model.modules().Count(m => m is TorchSharp.Modules.Conv2d));
    }

    [Fact]
    public void Imagenet_models_match_torchvision_parameter_counts()
    {
        // TorchVision's published counts; our VGG-16 drops vgg16_bn's 4224 conv biases (BN follows each conv).
        using (var vgg = ModelZoo.Create("vgg16")) Assert.Equal(138_365_992 - 4224, ModelAssert.ParameterCount(vgg));
        using (var r34 = ModelZoo.Create("resnet34")) Assert.Equal(21_797_672, ModelAssert.ParameterCount(r34));
        using (var r50 = ModelZoo.Create("resnet50")) Assert.Equal(25_557_032, ModelAssert.ParameterCount(r50));
    }

    [Fact]
    public void Mobilenet_p32_turns_each_separable_pair_into_one_hetconv_layer()
    {
        using var own = ModelZoo.Create("mobilenet-cifar");
        Assert.Equal(13, own.modules().OfType<TorchSharp.Modules.Conv2d>().Count(c => c.groups > 1));
        Assert.Empty(own.modules().OfType<HetConv2d>());

        using var p32 = ModelZoo.Create("mobilenet-cifar", ConvOptions.HetConv(32));
        var het = p32.modules().OfType<HetConv2d>().ToList();
        Assert.Equal(13, het.Count);
        Assert.All(het, h => Assert.Equal(32, h.Part));
        Assert.Equal(1, p32.modules().Count(m => m is TorchSharp.Modules.Conv2d));
    }

    [Fact]
    public void Resnet50_replaces_only_its_3x3_convolutions()
    {
        using var model = ModelZoo.Create("resnet50", ConvOptions.HetConv(4));
        Assert.Equal(16, model.modules().OfType<HetConv2d>().Count());
        // The stem 7x7, two 1x1 per block (16 blocks) and four projection shortcuts stay standard.
        Assert.Equal(1 + 2 * 16 + 4, model.modules().Count(m => m is TorchSharp.Modules.Conv2d));
    }

    [Fact]
    public void Models_without_options_take_their_own_form_and_command_line_words_override_it()
    {
        Assert.Equal(ConvOptions.DepthwisePointwise, ModelZoo.ResolveOptions("mobilenet-cifar", null, null, null, false));
        Assert.Equal(ConvOptions.Standard.WithSqueezeExcitation(), ModelZoo.ResolveOptions("resnet56", null, null, null, true));
        Assert.Equal(ConvOptions.HetConv(32), ModelZoo.ResolveOptions("mobilenet-cifar", null, "32", null, false));
        Assert.Equal(ConvOptions.GroupwisePointwise(4), ModelZoo.ResolveOptions("vgg16-cifar", "gwc-pwc", null, 4, false));
    }
}
