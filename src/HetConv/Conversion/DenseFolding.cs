using HetConv.Layers;
using TorchSharp;
using static TorchSharp.torch;
using Conv2d = TorchSharp.Modules.Conv2d;

namespace HetConv.Conversion;

/// <summary>
/// Turns HetConv layers into the ordinary convolutions they equal: a <see cref="HetConv2d"/> becomes a Conv2d whose
/// weight is <see cref="HetConv2d.DenseWeight"/> (the KxK kernels where the pattern has them, the 1x1 kernels on the
/// centre tap, zeros elsewhere), so that a runtime or framework that knows nothing of HetConv runs the model. The
/// function is unchanged; the cost is a standard convolution's. The other kinds (GWC+PWC, DWC+PWC, SE) are standard
/// operators already and stay as they are.
/// </summary>
public static class DenseFolding
{
    /// <summary>The Conv2d equal to <paramref name="layer"/>: same channels, kernel, stride, padding, bias, device, dtype and mode.</summary>
    public static Conv2d ToConv2d(HetConv2d layer)
    {
        if (layer.ReluOutput)
            throw new InvalidOperationException(
                "this HetConv2d applies a fused ReLU (ReluFusion), which a Conv2d cannot; fold to dense before fusing ReLUs.");
        var weight = layer.KxkWeight;
        var conv = nn.Conv2d(layer.InChannels, layer.OutChannels, layer.KernelSize, stride: layer.Stride,
            padding: layer.Padding, bias: layer.Bias is not null, device: weight.device, dtype: weight.dtype);
        using (no_grad())
        {
            using var dense = layer.DenseWeight();
            conv.weight!.copy_(dense);
            if (layer.Bias is not null) conv.bias!.copy_(layer.Bias);
        }
        conv.train(layer.training);
        return conv;
    }

    /// <summary>
    /// Replaces every HetConv2d in <paramref name="model"/> by its <see cref="ToConv2d"/>, in place (a layer shared by
    /// several parents gets one Conv2d shared the same way); returns the qualified names replaced. The state dict then
    /// has <c>weight</c> [N, M, K, K] where it had <c>kxk_weight</c> and <c>pointwise_weight</c>.
    /// </summary>
    public static IReadOnlyList<string> Fold(nn.Module model)
    {
        var replaced = new List<string>();
        var replacements = new Dictionary<HetConv2d, Conv2d>(ReferenceEqualityComparer.Instance);
        void Visit(nn.Module parent, string prefix)
        {
            foreach (var (childName, child) in parent.named_children().ToList())
            {
                string name = prefix.Length == 0 ? childName : $"{prefix}.{childName}";
                if (child is HetConv2d layer)
                {
                    if (!replacements.TryGetValue(layer, out var conv))
                    {
                        conv = ToConv2d(layer);
                        if (ModuleSurgery.WhyNot(parent, layer, conv) is { } reason)
                        {
                            conv.Dispose();
                            throw new InvalidOperationException($"cannot fold {name} to a Conv2d: {reason}.");
                        }
                        replacements[layer] = conv;
                    }
                    ModuleSurgery.Replace(parent, childName, layer, conv);
                    replaced.Add(name);
                }
                else
                {
                    Visit(child, name);
                }
            }
        }
        Visit(model, "");
        foreach (var layer in replacements.Keys) layer.Dispose();
        return replaced;
    }
}
