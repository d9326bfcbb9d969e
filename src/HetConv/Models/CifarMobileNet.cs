using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Models;

/// <summary>
/// MobileNet v1 for CIFAR: a standard 3x3 stem 3->32 at stride 1, then 13 blocks (64, 128/2, 128, 256/2, 256,
/// 512/2, 5x512, 1024/2, 1024), average pool and a linear layer. Its own form is depth-wise + point-wise
/// (<see cref="ConvOptions.DepthwisePointwise"/>); HetConv with P = 32 is the paper's MobileNet_P32.
/// </summary>
public sealed class CifarMobileNet : Module<Tensor, Tensor>
{
    private static readonly (int Channels, int Stride)[] Blocks =
    {
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    };

    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Sequential layers = Sequential();
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Module<Tensor, Tensor> linear;

    public CifarMobileNet(ConvOptions? options = null, int numClasses = 10, int inChannels = 3) : base("MobileNetCifar")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        options ??= ConvOptions.DepthwisePointwise;
        conv1 = Conv2d(inChannels, 32, 3, padding: 1, bias: false);
        bn1 = BatchNorm2d(32);
        int channels = 32;
        foreach (var (width, stride) in Blocks)
        {
            layers.append(new MobileNetBlock(channels, width, stride, options));
            channels = width;
        }
        avgpool = AdaptiveAvgPool2d(1);
        linear = Linear(1024, numClasses);
        RegisterComponents();
        ModelInit.Apply(this);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = layers.call(bn1.call(conv1.call(input)).relu_());
        x = avgpool.call(x).flatten(1);
        return linear.call(x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            layers.Dispose();
            avgpool.Dispose();
            linear.Dispose();
        }
        base.Dispose(disposing);
    }
}
