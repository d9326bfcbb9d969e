using System.CommandLine;
using HetConv.Data;
using HetConv.Interop;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv export</c>: a checkpoint to safetensors, a PyTorch state dict or an ONNX graph.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "checkpoint written by hetconv train (last.ckpt or best.ckpt)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "the file to write; its extension names the format: .safetensors, .pt (.pth) or .onnx", Required = true };
        var dense = new Option<bool>("--dense") { Description = "write HetConv layers as ordinary convolutions (weight [N, M, K, K], zeros outside the pattern)" };
        var command = new Command("export", "Export a checkpoint for PyTorch (.safetensors, .pt) or ONNX Runtime (.onnx).") { checkpoint, output, dense };
        command.SetAction(result =>
        {
            string from = result.GetValue(checkpoint)!, to = result.GetValue(output)!;
            try
            {
                ModelExport.Export(from, to, result.GetValue(dense));
            }
            catch (Exception e) when (e is DataFormatException or ArgumentException or NotSupportedException)
            {
                throw new CliUsageException(e.Message, e);
            }
            catch (IOException e)
            {
                throw new CliUsageException($"{to}: cannot be written: {e.Message}", e);
            }
            Console.Out.WriteLine($"Wrote {Path.GetFullPath(to)}");
            return 0;
        });
        return command;
    }
}
