using System.Diagnostics;
using System.Text;

namespace HetConv.Tests.Cli;

/// <summary>
/// Runs the built <c>hetconv</c> command as a child process. The test project references the CLI project, so its
/// assembly and runtime configuration are copied next to the tests; the same <c>dotnet</c> host runs it.
/// HETCONV_CLI, when set, names another build's HetConv.Cli.dll to run instead (e.g. to see a test fail on an
/// older build). A prefix runs the command under another one (e.g. setpriv, to drop root's privileges).
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly List<string> lines = new();

    public CliProcess(params string[] args) : this(Array.Empty<string>(), null, args)
    {
    }

    /// <summary>With extra environment variables (e.g. the writer's fault injection).</summary>
    public CliProcess(IReadOnlyDictionary<string, string>? environment, params string[] args)
        : this(Array.Empty<string>(), environment, args)
    {
    }

    /// <summary>Run under <paramref name="prefix"/> (a command and its arguments that run the rest), with extra environment variables.</summary>
    public CliProcess(string[] prefix, IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        string cli = Environment.GetEnvironmentVariable("HETCONV_CLI") is { Length: > 0 } other
            ? other
            : Path.Combine(AppContext.BaseDirectory, "HetConv.Cli.dll");
        if (!File.Exists(cli))
            throw new FileNotFoundException($"the command-line assembly is not next to the tests: {cli}");
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var p in prefix.Skip(1)) start.ArgumentList.Add(p);
        if (prefix.Length > 0) start.ArgumentList.Add(host);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(cli);
        foreach (var a in args) start.ArgumentList.Add(a);
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines)
            {
                lines.Add(e.Data);
                stdout.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) stderr.AppendLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get { lock (lines) return stdout.ToString(); }
    }

    public string Error
    {
        get { lock (lines) return stderr.ToString(); }
    }

    public bool HasExited => process.HasExited;

    /// <summary>Waits for a line of standard output that starts with <paramref name="prefix"/>.</summary>
    public string WaitForLine(string prefix, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            lock (lines)
            {
                var line = lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
                if (line is not null) return line;
            }
            if (process.HasExited)
                throw new InvalidOperationException($"hetconv exited ({process.ExitCode}) before printing '{prefix}'.\n{Output}\n{Error}");
            Thread.Sleep(50);
        }
        throw new TimeoutException($"no line '{prefix}' within {timeout}.\n{Output}\n{Error}");
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"hetconv did not finish within {timeout}.\n{Output}\n{Error}");
        }
        process.WaitForExit(); // drains the output handlers
        return process.ExitCode;
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed, as when the machine loses the process.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>SIGINT, as Ctrl+C on a terminal sends.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", new[] { "-s", "INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        kill.WaitForExit();
    }

    /// <summary>Runs to the end and returns the exit code with both outputs.</summary>
    public static (int ExitCode, string Output, string Error) Run(TimeSpan timeout, params string[] args) =>
        RunUnder(Array.Empty<string>(), timeout, args);

    /// <summary>Runs to the end under <paramref name="prefix"/> (a command and its arguments that run the rest).</summary>
    public static (int ExitCode, string Output, string Error) RunUnder(string[] prefix, TimeSpan timeout, params string[] args)
    {
        using var child = new CliProcess(prefix, null, args);
        int code = child.WaitForExit(timeout);
        return (code, child.Output, child.Error);
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
