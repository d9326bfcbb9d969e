using System.Globalization;
using System.Text.Json;
using HetConv.Data;
using HetConv.Training;

namespace HetConv.Interop;

/// <summary>
/// A checkpoint to a file other tools read, the format from the extension: <c>.safetensors</c>, <c>.pt</c>/<c>.pth</c>
/// (state dicts, <see cref="StateDictFiles"/>) or <c>.onnx</c> (<see cref="OnnxExport"/>). <paramref name="dense"/>
/// writes HetConv layers as ordinary convolutions. The safetensors and ONNX files carry the metadata prediction needs
/// (<see cref="ExportMetadata"/>).
/// </summary>
public static class ModelExport
{
    public static readonly string[] Extensions = { ".safetensors", ".pt", ".pth", ".onnx" };

    public static void Export(string checkpoint, string output, bool dense = false)
    {
        string extension = Path.GetExtension(output).ToLowerInvariant();
        if (!Extensions.Contains(extension))
            throw new ArgumentException($"--out {output}: unknown format '{extension}'; use {string.Join(", ", Extensions)}.");
        var (model, state) = CheckpointModels.Load(checkpoint);
        using (model)
        {
            var metadata = ExportMetadata.Of(state);
            if (extension == ".onnx")
                OnnxExport.Save(model, output, new long[] { state.InChannels, state.Height, state.Width },
                    dense ? OnnxHetConvForm.Dense : OnnxHetConvForm.Grouped, metadata);
            else
                StateDictFiles.Save(model, output, dense ? WeightLayout.Dense : WeightLayout.Compact, state.Options.Model, metadata);
        }
    }
}

/// <summary>
/// What a model needs around it to classify an image: its input, normalisation and class names, and whether images
/// are centre-cropped as in its evaluation (models trained on image folders) or stretched to the input size.
/// </summary>
public sealed record ExportMetadata(string Model, int InChannels, int Height, int Width, ChannelNormalization Normalization, string[] ClassNames,
    bool CentreCrop = false)
{
    private const string Prefix = "hetconv.";

    public static Dictionary<string, string> Of(CheckpointState state) =>
        new ExportMetadata(state.Options.Model, state.InChannels, state.Height, state.Width, state.Normalization, state.ClassNames,
            CentreCrop: state.Options.ImageSize is not null).ToDictionary();

    public Dictionary<string, string> ToDictionary() => new()
    {
        [Prefix + "model"] = Model,
        [Prefix + "input"] = string.Create(CultureInfo.InvariantCulture, $"{InChannels},{Height},{Width}"),
        [Prefix + "mean"] = JsonSerializer.Serialize(Normalization.Mean),
        [Prefix + "std"] = JsonSerializer.Serialize(Normalization.Std),
        [Prefix + "classes"] = JsonSerializer.Serialize(ClassNames),
        [Prefix + "resize"] = CentreCrop ? "centre-crop" : "stretch",
    };

    /// <summary>The metadata an export wrote; a file without it (or with it damaged) is an error naming the file.</summary>
    public static ExportMetadata Parse(string path, IReadOnlyDictionary<string, string> values)
    {
        string Get(string key) => values.TryGetValue(Prefix + key, out var v)
            ? v
            : throw new DataFormatException(path, $"has no '{Prefix}{key}' metadata: it was not exported by hetconv export, so its normalisation and classes are unknown.");
        try
        {
            var input = Get("input").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var mean = JsonSerializer.Deserialize<float[]>(Get("mean"))!;
            var std = JsonSerializer.Deserialize<float[]>(Get("std"))!;
            var classes = JsonSerializer.Deserialize<string[]>(Get("classes"))!;
            if (input.Length != 3 || mean.Length != input[0] || std.Length != input[0] || classes.Length == 0)
                throw new FormatException("the input, normalisation and classes do not agree");
            // Exports older than image folders have no resize key: they stretch.
            bool centre = values.TryGetValue(Prefix + "resize", out var resize) && resize == "centre-crop";
            return new ExportMetadata(Get("model"), input[0], input[1], input[2], new ChannelNormalization(mean, std), classes, centre);
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException)
        {
            throw new DataFormatException(path, $"its hetconv metadata is damaged ({e.Message}).", inner: e);
        }
    }
}
