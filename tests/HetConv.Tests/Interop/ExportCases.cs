using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Tests.Interop;

/// <summary>
/// The zoo's models in each convolution kind, built small enough for a unit test, with BatchNorm statistics that
/// are not the identity (so that folding them is checked, not skipped over).
/// </summary>
internal static class ExportCases
{
    /// <summary>Every kind: standard, HetConv shifted and blocked, PC, GWC+PWC, DWC+PWC, and HetConv with SE.</summary>
    public static readonly string[] Kinds = { "standard", "P4", "P4-blocked", "PC", "GWC4_PWC", "DWC_PWC", "P4_SE" };

    /// <summary>(model, kind) pairs: every zoo model in every kind.</summary>
    public static IEnumerable<object[]> ModelsAndKinds() =>
        ModelZoo.Names.SelectMany(model => Kinds.Select(kind => new object[] { model, kind }));

    /// <summary>Input [C, H, W] for a fast test: CIFAR models at 16x16, ImageNet ones at 32x32.</summary>
    public static long[] InputShape(string model) => ModelZoo.Get(model).DefaultClasses == 1000 ? new long[] { 3, 32, 32 } : new long[] { 3, 16, 16 };

    public static nn.Module<Tensor, Tensor> Create(string name, string kind, int classes = 10, long seed = 3)
    {
        torch.random.manual_seed(seed);
        var model = kind switch
        {
            "standard" => ModelZoo.Create(name, ConvOptions.Standard, classes),
            "P4" => ModelZoo.Create(name, ConvOptions.HetConv(4), classes),
            "P4-blocked" => Blocked(ModelZoo.Create(name, ConvOptions.Standard, classes)),
            "PC" => ModelZoo.Create(name, ConvOptions.PerChannel, classes),
            "GWC4_PWC" => ModelZoo.Create(name, ConvOptions.GroupwisePointwise(4), classes),
            "DWC_PWC" => ModelZoo.Create(name, ConvOptions.DepthwisePointwise, classes),
            "P4_SE" => ModelZoo.Create(name, ConvOptions.HetConv(4).WithSqueezeExcitation(), classes),
            _ => throw new ArgumentException(kind),
        };
        RandomizeNormalization(model);
        model.eval();
        return model;
    }

    private static nn.Module<Tensor, Tensor> Blocked(nn.Module<Tensor, Tensor> model)
    {
        HetConvConverter.Convert(model, new ConversionOptions { Part = 4, Arrangement = HetConvArrangement.Blocked });
        return model;
    }

    /// <summary>
    /// Running statistics and affine parameters away from their initial 0 and 1, with scales under 1 so that 50
    /// residual blocks do not grow the activations into the thousands, where float32 sums taken in another order (ONNX
    /// Runtime against libtorch) differ by more than 1e-4 of the output.
    /// </summary>
    public static void RandomizeNormalization(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var module in model.modules())
        {
            if (module is BatchNorm2d bn)
            {
                bn.running_mean!.uniform_(-0.2, 0.2);
                bn.running_var!.uniform_(0.5, 2);
                bn.weight!.uniform_(0.3, 0.9);
                bn.bias!.uniform_(-0.2, 0.2);
            }
            else if (module is BatchNorm1d bn1)
            {
                bn1.running_mean!.uniform_(-0.2, 0.2);
                bn1.running_var!.uniform_(0.5, 2);
            }
        }
    }
}
