using System.Text.Json;
using HetConv.Models;

namespace HetConv.Profiling;

/// <summary>
/// The JSON of a model's profile (<c>hetconv flops --json</c>): the model, its convolution options, the input, the
/// convention, the totals, and every layer's FLOPs, parameters and buffer values.
/// </summary>
public static class ModelProfileJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Write(string modelName, ConvOptions options, ModelProfile profile) => JsonSerializer.Serialize(new
    {
        model = modelName,
        options = options.ToString(),
        input = profile.Input,
        convention = Name(profile.Convention),
        flops = profile.FlopCount,
        @params = profile.Params,
        buffers = profile.Buffers,
        layers = profile.Layers.Select(l => new { name = l.Name, type = l.Type, flops = l.FlopCount, @params = l.Params, buffers = l.Buffers }),
    }, Indented);

    /// <summary>The convention's name on the command line and in JSON: paper or macs.</summary>
    public static string Name(FlopConvention convention) => convention == FlopConvention.Paper ? "paper" : "macs";
}
