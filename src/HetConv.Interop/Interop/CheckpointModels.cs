using HetConv.Training;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>A trained model rebuilt from its checkpoint: the zoo model its options name, with the checkpoint's tensors.</summary>
public static class CheckpointModels
{
    /// <summary>
    /// The one place the export and prediction code loads a checkpoint. Throws <see cref="HetConv.Data.DataFormatException"/>
    /// for a file that is missing, not a checkpoint, or not of the model it names.
    /// </summary>
    public static (nn.Module<Tensor, Tensor> Model, CheckpointState State) Load(string path)
    {
        var state = Checkpoint.ReadState(path);
        var model = ModelFactories.Zoo(state.Options, state.InChannels, state.ClassNames.Length);
        try
        {
            Checkpoint.Restore(path, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return (model, state);
    }
}
