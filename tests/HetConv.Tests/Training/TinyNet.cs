using HetConv.Layers;
using HetConv.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Tests.Training;

/// <summary>
/// A small CNN for the trainer's tests: a standard 3x3 stem to 16 channels, 2x2 max-pool, a HetConv 3x3 (P = 2,
/// stride 2) to 32 channels, average pooling to 3x3, a linear classifier. Fast enough for whole runs in tests.
/// </summary>
internal sealed class TinyNet : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly HetConv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Linear fc;

    public TinyNet(int inChannels, int classes) : base(nameof(TinyNet))
    {
        conv1 = Conv2d(inChannels, 16, 3, padding: 1, bias: false);
        bn1 = BatchNorm2d(16);
        conv2 = new HetConv2d(16, 32, 3, part: 2, stride: 2);
        bn2 = BatchNorm2d(32);
        fc = Linear(32 * 3 * 3, classes);
        RegisterComponents();
    }

    /// <summary>
    /// Multiply-accumulates on a 1x28x28 image, by hand: the stem 16 outputs x 28x28 x 9 taps; HetConv 32 outputs
    /// x 7x7, each with 16/2 3x3 kernels and 8 1x1 kernels; the linear layer 288 x 10.
    /// </summary>
    public const long FashionMnistMacs = 16 * 28 * 28 * 9 + 32 * 7 * 7 * (8 * 9 + 8) + 288 * 10;

    /// <summary>Learnable parameters: stem, BN, HetConv's kept kernels, BN, linear with bias.</summary>
    public const long Parameters = 16 * 9 + 2 * 16 + 32 * (8 * 9 + 8) + 2 * 32 + 288 * 10 + 10;

    public static ModelFactory Factory { get; } = (_, inChannels, classes) => new TinyNet(inChannels, classes);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.max_pool2d(bn1.call(conv1.call(input)).relu(), 2);
        x = bn2.call(conv2.call(x)).relu();
        x = functional.adaptive_avg_pool2d(x, 3).flatten(1);
        return fc.call(x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            conv2.Dispose();
            bn2.Dispose();
            fc.Dispose();
        }
        base.Dispose(disposing);
    }
}
