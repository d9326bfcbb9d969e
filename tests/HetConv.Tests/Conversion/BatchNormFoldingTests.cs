using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Tests.Conversion;

public class BatchNormFoldingTests
{
    [Theory]
    [InlineData("resnet20", 0)]
    [InlineData("resnet20", 4)]
    [InlineData("vgg16-cifar", 4)]
    [InlineData("vgg16-cifar", 0)]
    public void Folding_keeps_the_eval_output_and_removes_every_conv_BatchNorm(string name, int part)
    {
        torch.random.manual_seed(21);
        using var model = ModelZoo.Create(name, part == 0 ? ConvOptions.Standard : ConvOptions.HetConv(part));
        // Non-trivial statistics, so that folding has something to fold.
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            using var noGrad = no_grad();
            bn.running_mean!.uniform_(-0.5, 0.5);
            bn.running_var!.uniform_(0.5, 2);
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.uniform_(-0.3, 0.3);
        }
        model.eval();
        using var x = randn(2, 3, 32, 32);
        using var noGrad2 = no_grad();
        using var before = model.call(x);
        int batchNorms = model.modules().OfType<BatchNorm2d>().Count();

        var folded = BatchNormFolding.Fold(model);

        Assert.Equal(batchNorms, folded.Count);
        Assert.Empty(model.modules().OfType<BatchNorm2d>());
        TensorAssert.Close(model.call(x), before, rtol: 1e-3);
    }

    [Fact]
    public void A_BatchNorm_in_training_mode_is_left_alone()
    {
        using var model = torch.nn.Sequential(new HetConv2d(4, 8, 3, 2), torch.nn.BatchNorm2d(8));
        Assert.Empty(BatchNormFolding.Fold(model));
        Assert.Single(model.modules().OfType<BatchNorm2d>());
    }
}
