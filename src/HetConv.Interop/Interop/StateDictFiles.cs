using HetConv.Data;
using HetConv.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>How a HetConv2d's weights appear in an exported state dict.</summary>
public enum WeightLayout
{
    /// <summary>As the layer holds them: <c>kxk_weight</c> [N, M/P, K, K] and <c>pointwise_weight</c> [N, M - M/P].</summary>
    Compact,

    /// <summary>
    /// As an ordinary convolution's <c>weight</c> [N, M, K, K], zeros outside the pattern (<see cref="HetConv2d.DenseWeight"/>),
    /// so that a model with Conv2d layers loads it.
    /// </summary>
    Dense,
}

/// <summary>
/// A model's state dict to and from the weight files other frameworks read: <c>.safetensors</c> (recommended) and
/// <c>.pt</c> (PyTorch's zip format), chosen by the file's extension. Keys are the module's own (TorchVision's names
/// for the ImageNet models); loading never runs anything from the file and checks every name, dtype and shape against
/// the module before reading the data.
/// </summary>
public static class StateDictFiles
{
    /// <summary>
    /// Zoo models whose TorchVision counterpart gives its convolutions a bias that ours leave out (BatchNorm follows):
    /// a dense export adds zero biases there, so that the file loads strictly into TorchVision's model.
    /// </summary>
    private static readonly HashSet<string> TorchVisionConvBiases = new(StringComparer.OrdinalIgnoreCase) { "vgg16" };

    public static bool IsWeightFile(string path) => Format(path) is not null;

    /// <summary>The state dict in the given layout, in the module's order; tensors are the module's own or new ones.</summary>
    public static List<(string Name, Tensor Tensor)> Export(nn.Module model, WeightLayout layout, string? zooName = null)
    {
        var hetLayers = layout == WeightLayout.Dense
            ? model.named_modules().Where(m => m.module is HetConv2d).ToDictionary(m => m.name, m => (HetConv2d)m.module)
            : new Dictionary<string, HetConv2d>();
        bool addBiases = layout == WeightLayout.Dense && zooName is not null && TorchVisionConvBiases.Contains(zooName);
        var convs = addBiases
            ? model.named_modules().Where(m => m.module is TorchSharp.Modules.Conv2d or HetConv2d).Select(m => m.name).ToHashSet()
            : new HashSet<string>();
        var result = new List<(string, Tensor)>();
        using var noGrad = no_grad();
        var stateDict = model.state_dict();
        foreach (var (key, tensor) in stateDict)
        {
            int dot = key.LastIndexOf('.');
            string owner = dot < 0 ? "" : key[..dot], leaf = key[(dot + 1)..];
            if (hetLayers.TryGetValue(owner, out var layer))
            {
                if (leaf == "kxk_weight") result.Add(($"{owner}.weight", layer.DenseWeight().detach()));
                else if (leaf != "pointwise_weight") result.Add((key, tensor));
                if (leaf == "kxk_weight" && addBiases && layer.Bias is null)
                    result.Add(($"{owner}.bias", zeros(layer.OutChannels, dtype: tensor.dtype)));
                continue;
            }
            result.Add((key, tensor));
            if (leaf == "weight" && convs.Contains(owner) && !stateDict.ContainsKey($"{owner}.bias"))
                result.Add(($"{owner}.bias", zeros(tensor.shape[0], dtype: tensor.dtype)));
        }
        return result;
    }

    /// <summary>Writes the model's state dict to <paramref name="path"/>, in the format its extension names.</summary>
    public static void Save(nn.Module model, string path, WeightLayout layout = WeightLayout.Compact, string? zooName = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = Export(model, layout, zooName);
        switch (Format(path))
        {
            case ".safetensors":
                SafeTensorsFile.Write(path, tensors, metadata);
                break;
            case ".pt":
                PyTorchZipFile.Write(path, tensors);
                break;
            default:
                throw new ArgumentException($"{path}: unknown weight format; use .safetensors or .pt (or .pth).");
        }
    }

    /// <summary>
    /// Loads a file written by <see cref="Save"/> (or by PyTorch's <c>torch.save(model.state_dict())</c> and the
    /// safetensors library) into <paramref name="model"/>: every key of the module must be there with its dtype and
    /// shape, and nothing else.
    /// </summary>
    public static void Load(nn.Module model, string path)
    {
        var expected = model.state_dict().ToDictionary(p => p.Key, p => (p.Value.dtype, p.Value.shape));
        var tensors = Format(path) switch
        {
            ".safetensors" => SafeTensorsFile.Read(path, expected),
            ".pt" => PyTorchZipFile.Read(path, expected),
            _ => throw new DataFormatException(path, "unknown weight format; use .safetensors or .pt (or .pth)."),
        };
        try
        {
            using var noGrad = no_grad();
            var own = model.state_dict();
            foreach (var (key, tensor) in tensors) own[key].copy_(tensor);
            foreach (var layer in model.modules().OfType<HetConv2d>()) layer.InvalidateDerivedWeights();
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>The names, dtypes and shapes found in a file against those a module expects: the first difference, named.</summary>
    internal static void CheckAgainst(string path, IReadOnlyList<(string Name, ScalarType DType, long[] Shape)> found,
        IReadOnlyDictionary<string, (ScalarType DType, long[] Shape)> expected)
    {
        var names = found.Select(f => f.Name).ToHashSet();
        var missing = expected.Keys.Where(k => !names.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new DataFormatException(path, $"tensor '{missing[0]}' is missing ({missing.Count} of the model's {expected.Count} tensors are): " +
                                                "the file holds another model or another layout (compact or --dense).");
        foreach (var (name, dtype, shape) in found)
        {
            if (!expected.TryGetValue(name, out var want))
                throw new DataFormatException(path, $"tensor '{name}' is not in the model: the file holds another model or another layout (compact or --dense).");
            if (dtype != want.DType)
                throw new DataFormatException(path, $"tensor '{name}' is {dtype}; the model's is {want.DType}.");
            if (!shape.SequenceEqual(want.Shape))
                throw new DataFormatException(path, $"tensor '{name}' has shape [{string.Join(", ", shape)}]; the model's is [{string.Join(", ", want.Shape)}].");
        }
    }

    private static string? Format(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".safetensors" => ".safetensors",
        ".pt" or ".pth" => ".pt",
        _ => null,
    };
}
