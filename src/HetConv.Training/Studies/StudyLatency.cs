using HetConv.Runtime;
using HetConv.Training;
using static TorchSharp.torch;

namespace HetConv.Studies;

/// <summary>
/// Inference latency of each variant's trained model (the first seed's last checkpoint, in eval mode, no
/// autograd) at batch 1 and batch 64, the variants timed side by side (<see cref="InterleavedTimer"/>), so that
/// their ratios hold on a machine others share. Median milliseconds per forward pass of the whole batch.
/// </summary>
public static class StudyLatency
{
    public static readonly int[] Batches = [1, 64];

    public static Dictionary<(string Variant, int Batch), double> Measure(IReadOnlyList<(string Variant, string Checkpoint)> models, string device)
    {
        var dev = Trainer.ParseDevice(device);
        var loaded = new List<(string Variant, nn.Module<Tensor, Tensor> Model, long[] Shape)>();
        try
        {
            foreach (var (variant, path) in models)
            {
                var state = Checkpoint.ReadState(path);
                loaded.Add((variant, CheckpointModel.Load(path, state, ModelFactories.Zoo, dev), [state.InChannels, state.Height, state.Width]));
            }
            var result = new Dictionary<(string, int), double>();
            foreach (int batch in Batches)
            {
                var inputs = loaded.Select(m => randn([batch, .. m.Shape], device: dev)).ToList();
                var candidates = loaded.Select((m, i) => new TimedCandidate(m.Variant, () => Forward(m.Model, inputs[i]))).ToList();
                var timings = InterleavedTimer.Measure(candidates, warmup: batch == 1 ? 10 : 3, repetitions: batch == 1 ? 50 : 12);
                foreach (var (variant, stats) in timings) result[(variant, batch)] = stats.MedianMs;
                inputs.ForEach(x => x.Dispose());
            }
            return result;
        }
        finally
        {
            loaded.ForEach(m => m.Model.Dispose());
        }
    }

    private static void Forward(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.call(input);
    }
}
