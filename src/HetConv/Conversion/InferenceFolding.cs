using HetConv.Layers;
using static TorchSharp.torch;

namespace HetConv.Conversion;

/// <summary>
/// Prepares a model for inference in one call: eval mode, every BatchNorm folded into the convolution before it
/// (<see cref="BatchNormFolding"/>), every ReLU after a HetConv2d fused into it (<see cref="ReluFusion"/>), and each
/// HetConv2d's packed weights trusted between calls (<see cref="HetConv2d.TrustDerivedWeights"/>). The model
/// computes the same function; it can no longer train its BatchNorms, and after changing a HetConv2d's parameters
/// in place call <see cref="HetConv2d.InvalidateDerivedWeights"/>.
/// </summary>
public static class InferenceFolding
{
    public static InferenceFoldingReport Apply(nn.Module model)
    {
        model.eval();
        var batchNorms = BatchNormFolding.Fold(model);
        var relus = ReluFusion.Fuse(model);
        foreach (var layer in model.modules().OfType<HetConv2d>()) layer.TrustDerivedWeights = true;
        return new InferenceFoldingReport(batchNorms, relus);
    }
}

/// <summary>What <see cref="InferenceFolding.Apply"/> changed: qualified names of the modules replaced by identities.</summary>
public sealed record InferenceFoldingReport(IReadOnlyList<string> FoldedBatchNorms, IReadOnlyList<string> FusedRelus);
