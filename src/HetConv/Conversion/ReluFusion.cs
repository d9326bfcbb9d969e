using HetConv.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Conversion;

/// <summary>
/// Moves each ReLU that directly follows a HetConv2d into the layer (<see cref="HetConv2d.ReluOutput"/>), so the fused
/// kernel clamps its output as it stores it instead of the ReLU making another pass over the activations. The
/// function is unchanged, in training too; only inference without autograd saves the pass.
/// </summary>
/// <remarks>
/// "Directly follows" is either a ReLU after the layer in a Sequential (identities left by
/// <see cref="BatchNormFolding"/> in between are skipped), or, in any other module, children named convN and reluN
/// where convN's BatchNorm (bnN, if any) has been folded: the zoo's blocks apply reluN right after bnN(convN), as
/// <see cref="BatchNormFolding"/> assumes for convN and bnN.
/// </remarks>
public static class ReluFusion
{
    /// <summary>Fuses every such ReLU; returns the qualified names of the ReLU modules replaced by identities.</summary>
    public static IReadOnlyList<string> Fuse(nn.Module model)
    {
        var fused = new List<string>();
        foreach (var (parentName, parent) in model.named_modules().Prepend(("", model)).ToList())
        {
            var children = parent.named_children().ToList();
            foreach (var (layer, reluName, relu) in Pairs(parent, children))
            {
                layer.ReluOutput = true;
                ModuleSurgery.Replace(parent, reluName, relu, nn.Identity());
                fused.Add(parentName.Length == 0 ? reluName : $"{parentName}.{reluName}");
            }
        }
        return fused;
    }

    private static IEnumerable<(HetConv2d, string, ReLU)> Pairs(nn.Module parent, List<(string name, nn.Module module)> children)
    {
        if (parent is Sequential)
        {
            for (int i = 0; i < children.Count; i++)
            {
                if (children[i].module is not HetConv2d layer || layer.ReluOutput) continue;
                int next = i + 1;
                while (next < children.Count && children[next].module is Identity) next++;
                if (next < children.Count && children[next].module is ReLU relu) yield return (layer, children[next].name, relu);
            }
            yield break;
        }
        foreach (var (name, module) in children)
        {
            if (!name.StartsWith("conv", StringComparison.Ordinal) || module is not HetConv2d layer || layer.ReluOutput) continue;
            string suffix = name["conv".Length..];
            var bn = children.FirstOrDefault(c => c.name == "bn" + suffix).module;
            var relu = children.FirstOrDefault(c => c.name == "relu" + suffix).module as ReLU;
            if (relu is not null && (bn is null || bn is Identity)) yield return (layer, "relu" + suffix, relu);
        }
    }
}
