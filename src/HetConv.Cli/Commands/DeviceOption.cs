using System.CommandLine;
using HetConv.Training;
using TorchSharp;

namespace HetConv.Cli.Commands;

/// <summary>The <c>--device cpu|cuda|cuda:N</c> option of every command that runs a model.</summary>
public static class DeviceOption
{
    public static Option<string> Create() =>
        new("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => new TrainingOptions().Device };

    /// <summary>The device named, by the library's one grammar (<see cref="Trainer.ParseDevice"/>).</summary>
    public static torch.Device Resolve(string name) => CliUsageException.Wrap(() => Trainer.ParseDevice(name));
}
