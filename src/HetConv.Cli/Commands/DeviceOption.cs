using System.CommandLine;
using TorchSharp;

namespace HetConv.Cli.Commands;

/// <summary>The shared <c>--device cpu|cuda</c> option.</summary>
public static class DeviceOption
{
    public static Option<string> Create() =>
        new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };

    public static torch.Device Resolve(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => torch.CPU,
        "cuda" when torch.cuda.is_available() => torch.CUDA,
        "cuda" => throw new CliUsageException("--device cuda: no CUDA device is available to this build of libtorch (it is the CPU build); use --device cpu."),
        _ => throw new CliUsageException($"--device: '{name}' is not a device; valid: cpu, cuda."),
    };
}
