using HetConv.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HetConv.Training;

/// <summary>Builds the model a run's options name: (options, input channels, classes) to a fresh module.</summary>
public delegate Module<Tensor, Tensor> ModelFactory(TrainingOptions options, int inChannels, int classes);

public static class ModelFactories
{
    /// <summary>The model zoo: <see cref="TrainingOptions.Model"/> with its convolution options.</summary>
    public static ModelFactory Zoo { get; } = (options, inChannels, classes) =>
        ModelZoo.Create(options.Model, ZooOptions(options), classes, inChannels);

    /// <summary>The zoo's convolution options for a run's conv, part, groups and SE words.</summary>
    public static ConvOptions ZooOptions(TrainingOptions options) =>
        ModelZoo.ResolveOptions(options.Model, options.Conv, options.Part, options.Groups, options.SqueezeExcitation);
}
