using System.CommandLine;
using HetConv.Cli.Commands;
using HetConv.Layers.Execution.Kernels;
using Spectre.Console;

namespace HetConv.Cli;

/// <summary>The <c>hetconv</c> command: one sub-command per file in Commands/.</summary>
public static class HetConvCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("HetConv.NET: heterogeneous-kernel convolutions (Singh et al., CVPR 2019) on TorchSharp.");
        root.Subcommands.Add(LayerCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(FlopsCommand.Create());
        root.Subcommands.Add(TablesCommand.Create());
        return root;
    }

    public static int Run(string[] args)
    {
        // Redirected output has no terminal width; Spectre would assume 80 columns and fold every wide table.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        try
        {
            // A bad HETCONV_ISA is a usage error here, before any work, not a kernel's exception later.
            try { _ = KernelIsa.Current; }
            catch (ArgumentException e) { throw new CliUsageException(e.Message, e); }
            // Our own handler reports usage problems in one line; anything else is a bug and keeps its stack trace.
            return Build().Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}

/// <summary>A problem with what the user asked for: reported as one line on stderr with exit code 2.</summary>
public sealed class CliUsageException(string message, Exception? inner = null) : Exception(message, inner);
