using HetConv.Training;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>A trained model rebuilt from its checkpoint, on the CPU, for export and prediction.</summary>
public static class CheckpointModels
{
    /// <summary>
    /// Reads the checkpoint's state and rebuilds its model through <see cref="CheckpointModel.Load"/>. Throws
    /// <see cref="HetConv.Data.DataFormatException"/> for a file that is missing, not a checkpoint, or not of the model it names.
    /// </summary>
    public static (nn.Module<Tensor, Tensor> Model, CheckpointState State) Load(string path)
    {
        var state = Checkpoint.ReadState(path);
        return (CheckpointModel.Load(path, state, ModelFactories.Zoo, CPU), state);
    }
}
