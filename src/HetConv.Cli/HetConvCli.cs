using System.CommandLine;
using System.CommandLine.Help;
using HetConv.Cli.Commands;
using HetConv.Data;
using HetConv.Layers.Execution.Kernels;
using Spectre.Console;

namespace HetConv.Cli;

/// <summary>The <c>hetconv</c> command: one sub-command per file in Commands/.</summary>
public static class HetConvCli
{
    /// <summary>The exit code of every usage error and expected fault (bad option, bad or unreadable file, full disk).</summary>
    public const int UsageError = 2;

    /// <summary>The exit code of a fault in the program itself, reported with its stack trace.</summary>
    public const int InternalError = 70;

    public static Command Build()
    {
        // A plain command named as users type it: a RootCommand takes its name from the assembly (HetConv.Cli).
        var root = new Command("hetconv", "HetConv.NET: heterogeneous-kernel convolutions (Singh et al., CVPR 2019) on TorchSharp.")
        {
            new HelpOption(),
            new VersionOption(),
            LayerCommand.Create(),
            BenchCommand.Create(),
            TrainCommand.Create(),
            StudyCommand.Create(),
            EvalCommand.Create(),
            FlopsCommand.Create(),
            TablesCommand.Create(),
            ExportCommand.Create(),
            PredictCommand.Create(),
            DataCommand.Create(),
            OnnxLatencyCommand.Create(),
        };
        return root;
    }

    public static int Run(string[] args)
    {
        // Redirected output has no terminal width; Spectre would assume 80 columns and fold every wide table.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        try
        {
            // A bad HETCONV_ISA is a usage error here, before any work, not a kernel's exception later.
            CliUsageException.Wrap(() => KernelIsa.Current);
            var parsed = Build().Parse(args);
            if (parsed.Errors.Count > 0)
                return Fail($"{string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.')))}. See: {Usage(parsed)} --help");
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Expected(e))
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"error: internal error, please report it: {e}");
            return InternalError;
        }
    }

    /// <summary>Faults of input or environment, which the message alone explains; anything else is a bug.</summary>
    private static bool Expected(Exception e) =>
        e is CliUsageException or DataFormatException or IOException or UnauthorizedAccessException;

    private static int Fail(string message)
    {
        // One line: a message from the system may carry line breaks.
        Console.Error.WriteLine($"error: {string.Join(' ', message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))}");
        return UsageError;
    }

    private static string Usage(ParseResult parsed)
    {
        var names = new List<string>();
        for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }
}

/// <summary>A problem with what the user asked for: reported as one line on stderr with exit code 2.</summary>
public sealed class CliUsageException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Runs a library call whose <see cref="ArgumentException"/> means a bad option value.</summary>
    public static T Wrap<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(Describe(e), e);
        }
    }

    /// <summary>The exception's message without the " (Parameter 'x')" that names a C# parameter the user never saw.</summary>
    public static string Describe(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "");
}
