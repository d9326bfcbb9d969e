using HetConv.Conversion;
using HetConv.Models;
using HetConv.Profiling;
using TorchSharp;

namespace HetConv.Tests.Profiling;

/// <summary>
/// The profiler counts every path a model takes: after <see cref="InferenceFolding"/> the residual blocks' last
/// HetConv runs through <c>ForwardAddRelu</c>, and ReLUs run inside the convolutions.
/// </summary>
public class FoldedModelProfileTests
{
    public static TheoryData<string, string> Models()
    {
        var models = new TheoryData<string, string>();
        foreach (var name in new[] { "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "vgg16-cifar", "mobilenet-cifar" })
            foreach (var kind in new[] { "standard", "hetconv" })
                models.Add(name, kind);
        models.Add("mobilenet-cifar", "dwc-pwc");
        return models;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_folded_model_counts_what_the_unfolded_one_does_less_the_folded_and_fused_modules(string name, string kind)
    {
        var options = kind switch
        {
            "standard" => ConvOptions.Standard,
            "hetconv" => ConvOptions.HetConv(name.StartsWith("mobilenet") ? 32 : 4),
            _ => ConvOptions.DepthwisePointwise,
        };
        var conventions = new[] { FlopConvention.Macs, FlopConvention.Paper };
        var input = ModelZoo.Get(name).DefaultInput;
        using var model = ModelZoo.Create(name, options);
        model.eval();
        var unfolded = ModelProfiler.Profile(model, input, conventions);

        var report = InferenceFolding.Apply(model);
        var folded = ModelProfiler.Profile(model, input, conventions);

        Assert.NotEmpty(report.FoldedBatchNorms);
        var removed = report.FoldedBatchNorms.Concat(report.FusedRelus).ToHashSet();
        for (int c = 0; c < conventions.Length; c++)
        {
            double removedFlops = unfolded[c].Layers.Where(l => removed.Contains(l.Name)).Sum(l => l.Flops);
            Assert.Equal(unfolded[c].Flops - removedFlops, folded[c].Flops);
            var foldedByName = folded[c].Layers.ToDictionary(l => l.Name, l => l.Flops);
            foreach (var layer in unfolded[c].Layers.Where(l => !removed.Contains(l.Name) && l.Flops > 0))
                Assert.True(foldedByName.GetValueOrDefault(layer.Name) == layer.Flops,
                    $"{conventions[c]}: {layer.Name} counts {foldedByName.GetValueOrDefault(layer.Name)} folded, {layer.Flops} unfolded");
        }
    }
}

/// <summary>Reads torch's global random generator, so it runs apart from tests that draw from it.</summary>
[Collection(nameof(ProcessWideState))]
public class ProfilerRandomStateTests
{
    [Fact]
    public void Profiling_leaves_torchs_random_state_alone()
    {
        using var model = ModelZoo.Create("vgg16-cifar", ConvOptions.HetConv(4));
        torch.random.manual_seed(7);
        using var before = torch.random.get_rng_state();
        var profile = ModelProfiler.Profile(model, ModelZoo.Get("vgg16-cifar").DefaultInput, FlopConvention.Paper);
        using var after = torch.random.get_rng_state();
        Assert.True(profile.Flops > 0);
        Assert.True(before.Equals(after), "profiling drew from torch's global random generator");
    }
}
