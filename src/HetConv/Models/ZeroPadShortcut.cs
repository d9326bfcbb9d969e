using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using TensorIndex = TorchSharp.torch.TensorIndex;

namespace HetConv.Models;

/// <summary>
/// He et al.'s option-A shortcut for CIFAR ResNets: subsample by the stride and zero-pad the new channels
/// (half before, half after), so the shortcut has no parameters and no FLOPs.
/// </summary>
public sealed class ZeroPadShortcut : Module<Tensor, Tensor>
{
    private readonly int stride;
    private readonly long padBefore;
    private readonly long padAfter;

    public ZeroPadShortcut(int inChannels, int outChannels, int stride) : base(nameof(ZeroPadShortcut))
    {
        if (outChannels < inChannels)
            throw new ArgumentException($"option-A shortcut cannot shrink {inChannels} channels to {outChannels}.");
        this.stride = stride;
        padBefore = (outChannels - inChannels) / 2;
        padAfter = outChannels - inChannels - padBefore;
    }

    /// <summary>The subsampling step in both spatial dimensions.</summary>
    public int Stride => stride;

    /// <summary>Zero channels added before the input's and after them.</summary>
    public (long Before, long After) ChannelPadding => (padBefore, padAfter);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var every = TensorIndex.Slice(null, null, stride);
        var x = input[TensorIndex.Colon, TensorIndex.Colon, every, every];
        x = functional.pad(x, new[] { 0L, 0, 0, 0, padBefore, padAfter });
        return x.MoveToOuterDisposeScope();
    }
}
