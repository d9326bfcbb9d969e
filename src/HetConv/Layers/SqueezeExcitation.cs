using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Layers;

/// <summary>
/// Squeeze-and-Excitation (Hu et al.): global average pool, Linear C -> C/r, ReLU, Linear C/r -> C, sigmoid,
/// then each channel scaled by its gate. The paper uses reduction r = 8 throughout.
/// </summary>
public sealed class SqueezeExcitation : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> fc1;
    private readonly Module<Tensor, Tensor> fc2;

    public SqueezeExcitation(int channels, int reduction = 8)
        : base(nameof(SqueezeExcitation))
    {
        if (channels <= 0)
            throw new ArgumentException($"channels = {channels} must be positive.", nameof(channels));
        if (reduction < 1)
            throw new ArgumentException($"reduction = {reduction} must be >= 1.", nameof(reduction));
        Channels = channels;
        Hidden = Math.Max(1, channels / reduction);
        fc1 = Linear(channels, Hidden);
        fc2 = Linear(Hidden, channels);
        RegisterComponents();
    }

    public int Channels { get; }
    public int Hidden { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var squeezed = input.mean(new long[] { 2, 3 });
        var gate = fc2.call(fc1.call(squeezed).relu()).sigmoid();
        return (input * gate.unsqueeze(-1).unsqueeze(-1)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fc1.Dispose();
            fc2.Dispose();
        }
        base.Dispose(disposing);
    }
}
