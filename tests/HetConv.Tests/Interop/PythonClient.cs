using System.Diagnostics;

namespace HetConv.Tests.Interop;

/// <summary>
/// Debian's PyTorch, TorchVision and ONNX (<c>python3-torch</c>, <c>python3-torchvision</c>, <c>python3-onnx</c>) as
/// independent clients of the exported files. Tests that need them are skipped, with the reason, where
/// <c>/usr/bin/python3</c> cannot import them.
/// </summary>
internal static class PythonClient
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> missing = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} does not exist";
        try
        {
            var (code, _, error) = Run(TimeSpan.FromMinutes(2), "import torch, torchvision, onnx");
            return code == 0 ? null : $"{Python} cannot import torch, torchvision and onnx ({error.Trim().Split('\n').Last()})";
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"{Python} does not run ({e.Message})";
        }
    });

    /// <summary>Why the clients cannot run here, or null when they can.</summary>
    public static string? Missing => missing.Value;

    public static string SkipReason =>
        $"needs PyTorch, TorchVision and ONNX for Python: {Missing}; install python3-torch python3-torchvision python3-onnx";

    /// <summary>Runs a script with arguments (sys.argv[1:]); returns the exit code and both outputs.</summary>
    public static (int ExitCode, string Output, string Error) Run(TimeSpan timeout, string script, params string[] args)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        // One thread: these are small checks, and the machine's cores are shared with the test run.
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Python} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} did not finish within {timeout}.");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs a script that must succeed; returns its standard output.</summary>
    public static string Check(string script, params string[] args)
    {
        var (code, output, error) = Run(TimeSpan.FromMinutes(5), script, args);
        Assert.True(code == 0, $"python failed ({code}):\n{error}\n{output}");
        return output;
    }
}

/// <summary>A fact that is skipped, saying why, where the Python clients are missing.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (PythonClient.Missing is not null) Skip = PythonClient.SkipReason;
    }
}

/// <summary>A theory that is skipped, saying why, where the Python clients are missing.</summary>
public sealed class PythonTheoryAttribute : TheoryAttribute
{
    public PythonTheoryAttribute()
    {
        if (PythonClient.Missing is not null) Skip = PythonClient.SkipReason;
    }
}
