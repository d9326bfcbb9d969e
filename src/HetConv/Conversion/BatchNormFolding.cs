using HetConv.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Conversion;

/// <summary>
/// Folds each inference-mode BatchNorm2d into the convolution that feeds it (Conv2d or HetConv2d): the convolution's
/// filters are scaled by gamma / sqrt(var + eps) and given the bias (b - mean) * scale + beta, and the BatchNorm is
/// replaced by an identity, so inference saves a pass over every activation.
/// </summary>
/// <remarks>
/// A pair is a convolution directly followed by the BatchNorm in a Sequential, or children named convN and bnN in
/// one module (TorchVision's and the zoo's naming, where forward applies bnN right after convN). Only for
/// inference: the folded model's BatchNorms no longer learn. Call after <c>eval()</c>.
/// </remarks>
public static class BatchNormFolding
{
    /// <summary>Folds every pair found; returns the qualified names of the BatchNorms folded.</summary>
    public static IReadOnlyList<string> Fold(nn.Module model)
    {
        var folded = new List<string>();
        // TorchSharp's named_modules() leaves out the module itself, whose own children can be a pair too.
        foreach (var (parentName, parent) in model.named_modules().Prepend(("", model)).ToList())
        {
            var children = parent.named_children().ToList();
            foreach (var (convName, conv, bnName, bn) in Pairs(parent, children))
            {
                if (bn.training || bn.running_mean is null || bn.running_var is null) continue;
                FoldInto(conv, bn);
                ModuleSurgery.Replace(parent, bnName, bn, nn.Identity());
                folded.Add(parentName.Length == 0 ? bnName : $"{parentName}.{bnName}");
            }
        }
        return folded;
    }

    private static IEnumerable<(string, nn.Module, string, BatchNorm2d)> Pairs(nn.Module parent, List<(string name, nn.Module module)> children)
    {
        if (parent is Sequential)
        {
            for (int i = 0; i + 1 < children.Count; i++)
                if (IsFoldable(children[i].module, children[i + 1].module))
                    yield return (children[i].name, children[i].module, children[i + 1].name, (BatchNorm2d)children[i + 1].module);
            yield break;
        }
        foreach (var (name, module) in children)
        {
            if (!name.StartsWith("conv", StringComparison.Ordinal)) continue;
            string bnName = "bn" + name["conv".Length..];
            var bn = children.FirstOrDefault(c => c.name == bnName).module;
            if (bn is not null && IsFoldable(module, bn)) yield return (name, module, bnName, (BatchNorm2d)bn);
        }
    }

    private static bool IsFoldable(nn.Module conv, nn.Module bn) =>
        bn is BatchNorm2d norm && conv switch
        {
            Conv2d c => c.out_channels == norm.num_features,
            HetConv2d h => h.OutChannels == norm.num_features,
            _ => false,
        };

    private static void FoldInto(nn.Module conv, BatchNorm2d bn)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var scale = bn.running_var!.add(bn.eps).rsqrt();
        if (bn.weight is not null) scale = scale.mul(bn.weight);
        var shift = bn.running_mean!.neg().mul(scale);
        if (bn.bias is not null) shift = shift.add(bn.bias);

        switch (conv)
        {
            case HetConv2d het:
                het.FoldAffine(scale, shift);
                break;
            case Conv2d c:
                c.weight.mul_(scale.reshape(-1, 1, 1, 1));
                if (c.bias is null) c.bias = new Parameter(shift.clone().DetachFromDisposeScope());
                else c.bias.mul_(scale).add_(shift);
                break;
        }
    }
}
