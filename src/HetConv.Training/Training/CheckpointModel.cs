using HetConv.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Training;

/// <summary>
/// A checkpoint back to a model: the model its options name, built for its input channels and classes, with its
/// weights loaded (<see cref="CheckpointState.EnsureFits"/> checks that data suits it).
/// </summary>
public static class CheckpointModel
{
    /// <summary>Builds the checkpoint's model on <paramref name="device"/> with its weights, in eval mode.</summary>
    public static nn.Module<Tensor, Tensor> Load(string path, CheckpointState state, ModelFactory factory, Device device)
    {
        nn.Module<Tensor, Tensor> model;
        try
        {
            model = factory(state.Options, state.InChannels, state.ClassNames.Length);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"names a model this build cannot make ({state.Options.Model} {Trainer.ConvDescription(state.Options)}): {e.Message}", inner: e);
        }
        try
        {
            Checkpoint.Restore(path, model);
            model.to(device);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
