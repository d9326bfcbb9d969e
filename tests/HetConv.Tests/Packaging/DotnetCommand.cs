using System.Diagnostics;
using System.Text;

namespace HetConv.Tests.Packaging;

/// <summary>Runs the <c>dotnet</c> command (pack, new, add package, run, tool install) as a child process.</summary>
internal static class DotnetCommand
{
    public static (int ExitCode, string Output) Run(string workingDirectory, TimeSpan timeout, params string[] args) =>
        Run(Host(), workingDirectory, timeout, args);

    /// <summary>Runs any executable with the environment <see cref="Run(string, TimeSpan, string[])"/> gives dotnet.</summary>
    public static (int ExitCode, string Output) Run(string fileName, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        // The test host inherits the MSBuild settings of the `dotnet test` that started it; a child build must
        // find its own. Build servers and reused nodes would outlive the child and hold its output open.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {timeout}.\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    /// <summary>Runs and fails the test, with the command's output, unless it exits with 0.</summary>
    public static string Succeed(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var (code, output) = Run(workingDirectory, timeout, args);
        Assert.True(code == 0, $"dotnet {string.Join(' ', args)} exited with {code}:\n{output}");
        return output;
    }

    /// <summary>The dotnet that runs the tests, so children use the same SDK.</summary>
    private static string Host() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
}
