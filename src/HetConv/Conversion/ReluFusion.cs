using HetConv.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Conversion;

/// <summary>
/// Moves each ReLU that directly follows a HetConv2d in a Sequential (identities left by
/// <see cref="BatchNormFolding"/> in between are skipped) into the layer (<see cref="HetConv2d.ReluOutput"/>), so the
/// fused kernel clamps its output as it stores it instead of the ReLU making another pass over the activations.
/// The function is unchanged, in training too; only inference without autograd saves the pass.
/// </summary>
public static class ReluFusion
{
    /// <summary>Fuses every such ReLU; returns the qualified names of the ReLU modules replaced by identities.</summary>
    public static IReadOnlyList<string> Fuse(nn.Module model)
    {
        var fused = new List<string>();
        foreach (var (parentName, parent) in model.named_modules().Prepend(("", model)).ToList())
        {
            if (parent is not Sequential) continue;
            var children = parent.named_children().ToList();
            for (int i = 0; i < children.Count; i++)
            {
                if (children[i].module is not HetConv2d layer || layer.ReluOutput) continue;
                int next = i + 1;
                while (next < children.Count && children[next].module is Identity) next++;
                if (next == children.Count || children[next].module is not ReLU relu) continue;
                layer.ReluOutput = true;
                ModuleSurgery.Replace(parent, children[next].name, relu, nn.Identity());
                fused.Add(parentName.Length == 0 ? children[next].name : $"{parentName}.{children[next].name}");
            }
        }
        return fused;
    }
}
