using System.Runtime.InteropServices;
using System.CommandLine;
using System.Globalization;
using HetConv.Models;
using HetConv.Profiling;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv flops</c>: FLOPs and parameters of a zoo model, per layer and in total.</summary>
public static class FlopsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = $"zoo model: {string.Join(", ", ModelZoo.Names)}", Required = true };
        var conv = ModelOptions.Conv();
        var part = ModelOptions.Part();
        var groups = ModelOptions.Groups();
        var se = ModelOptions.SqueezeExcitation();
        var classes = new Option<int?>("--classes") { Description = "number of classes (default: 10 for CIFAR models, 1000 for ImageNet ones)" };
        var input = new Option<string?>("--input") { Description = "input C x H x W, e.g. 3x32x32 or 1x28x28 (default: the model's own)" };
        var convention = new Option<string>("--convention")
        {
            Description = "paper: the HetConv paper's FLOPs (conv Do^2 N (M K^2/g + 1), HetConv times 1/P + (1-1/P)/K^2, totals truncated); macs: fvcore's multiply-accumulates",
            DefaultValueFactory = _ => "paper",
        };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var command = new Command("flops", "Count a zoo model's FLOPs and parameters, per layer and in total.")
        {
            model, conv, part, groups, se, classes, input, convention, json,
        };
        command.SetAction(result =>
        {
            string name = result.GetValue(model)!;
            var entry = ModelOptions.Entry(name);
            var options = ModelOptions.Resolve(entry.Name, result.GetValue(conv), result.GetValue(part), result.GetValue(groups), result.GetValue(se));
            long[] shape = result.GetValue(input) is { } text ? ParseInput(text) : entry.DefaultInput;
            var flopConvention = result.GetValue(convention) switch
            {
                "paper" => FlopConvention.Paper,
                "macs" => FlopConvention.Macs,
                var other => throw new CliUsageException($"--convention '{other}' is unknown; use paper or macs."),
            };
            using var network = ModelOptions.Build(entry.Name, options, result.GetValue(classes), (int)shape[0]);
            var profile = ProfileOrExplain(network, shape, flopConvention);
            if (result.GetValue(json))
                Console.WriteLine(ModelProfileJson.Write(entry.Name, options, profile));
            else
                Write(entry.Name, options, profile);
            return 0;
        });
        return command;
    }

    /// <summary>"3x32x32" (or "1,28,28") to [3, 32, 32].</summary>
    public static long[] ParseInput(string text)
    {
        var parts = text.Split(new[] { 'x', 'X', ',', '*' }, StringSplitOptions.TrimEntries);
        if (parts.Length != 3 || !parts.All(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0))
            throw new CliUsageException($"--input '{text}' must be three positive sizes C x H x W, e.g. 3x32x32.");
        return parts.Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    private static ModelProfile ProfileOrExplain(TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> network, long[] shape, FlopConvention convention)
    {
        try
        {
            return ModelProfiler.Profile(network, shape, convention);
        }
        catch (Exception e) when (e is ArgumentException or ExternalException)
        {
            throw new CliUsageException($"the model cannot run on a {string.Join("x", shape)} input ({e.Message.Split('\n')[0]}); choose a larger --input.", e);
        }
    }

    private static void Write(string modelName, ConvOptions options, ModelProfile profile)
    {
        var table = new Table().AddColumns("layer", "type", "FLOPs", "params", "buffers");
        foreach (int i in Enumerable.Range(2, 3)) table.Columns[i].RightAligned();
        foreach (var layer in profile.Layers)
            table.AddRow(Markup.Escape(layer.Name == "" ? "(model)" : layer.Name), layer.Type, $"{layer.FlopCount:N0}", $"{layer.Params:N0}", $"{layer.Buffers:N0}");
        table.AddRow("[bold]total[/]", "", $"[bold]{profile.FlopCount:N0}[/]", $"[bold]{profile.Params:N0}[/]", $"[bold]{profile.Buffers:N0}[/]");
        AnsiConsole.Write(table);
        string conventionName = ModelProfileJson.Name(profile.Convention);
        string flopsText = profile.Convention == FlopConvention.Paper
            ? $"{ModelProfile.TruncatedMillions(profile.Flops):F2}M FLOPs (paper convention: millions truncated)"
            : $"{profile.Flops / 1e6:F2}M MACs";
        Console.WriteLine(
            $"{modelName} {options} on {string.Join("x", profile.Input)} ({conventionName}): {flopsText}, " +
            $"{profile.Params / 1e6:F2}M parameters, {profile.Buffers / 1e6:F2}M buffer values");
    }
}
