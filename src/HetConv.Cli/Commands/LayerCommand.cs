using System.CommandLine;
using HetConv.Layers;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv layer</c>: what one HetConv layer keeps and saves against a standard convolution.</summary>
public static class LayerCommand
{
    public static Command Create()
    {
        var inChannels = new Option<int>("--in") { Description = "input channels M", DefaultValueFactory = _ => 64 };
        var outChannels = new Option<int>("--out") { Description = "output channels N", DefaultValueFactory = _ => 64 };
        var kernel = new Option<int>("--kernel", "-k") { Description = "kernel size K (odd)", DefaultValueFactory = _ => 3 };
        var part = new Option<int>("--part", "-p") { Description = "part P: 1/P of each filter's kernels are KxK", DefaultValueFactory = _ => 4 };
        var command = new Command("layer", "Describe one HetConv2d layer: its kernels, parameters and FLOPs ratio.")
        {
            inChannels, outChannels, kernel, part,
        };
        command.SetAction(result =>
        {
            int m = result.GetValue(inChannels), n = result.GetValue(outChannels), k = result.GetValue(kernel), p = result.GetValue(part);
            HetConvPattern pattern;
            try
            {
                pattern = new HetConvPattern(m, n, k, p, HetConvArrangement.Shifted);
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(e.Message, e);
            }
            long dense = (long)n * m * k * k;
            double ratio = HetConvPattern.FlopsFraction(p, k);
            var table = new Table().AddColumns("quantity", "value");
            table.AddRow("layer", Markup.Escape(new HetConv2d(m, n, k, p).ToString()));
            table.AddRow("KxK kernels per filter", $"{pattern.KxkPerFilter}");
            table.AddRow("1x1 kernels per filter", $"{pattern.PointwisePerFilter}");
            table.AddRow("weights (dense conv)", $"{pattern.WeightCount:N0} ({dense:N0})");
            table.AddRow("FLOPs vs dense (1/P + (1-1/P)/K^2)", $"{ratio:P2} ({1 / ratio:F2}x fewer)");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
