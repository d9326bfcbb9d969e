using HetConv.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Training;

/// <summary>
/// Multiply-accumulates of one forward pass on one image, counted on convolutions (HetConv2d by its kept
/// kernels) and linear layers: a table of per-module-type counts over the output sizes seen in a forward pass.
/// </summary>
public static class ModelCost
{
    private static readonly Dictionary<Type, Func<nn.Module, Tensor, long>> counters = new()
    {
        [typeof(Conv2d)] = (m, output) =>
        {
            var conv = (Conv2d)m;
            var weight = conv.weight!;
            return output.numel() * weight.shape[1] * weight.shape[2] * weight.shape[3];
        },
        [typeof(HetConv2d)] = (m, output) =>
        {
            var conv = (HetConv2d)m;
            return output.numel() * (conv.Pattern.KxkPerFilter * conv.KernelSize * conv.KernelSize + conv.Pattern.PointwisePerFilter);
        },
        [typeof(Linear)] = (m, output) => output.numel() * ((Linear)m).weight.shape[1],
    };

    public static long MultiplyAccumulates(nn.Module<Tensor, Tensor> model, long[] imageShape, Device device)
    {
        long total = 0;
        var removers = new List<IDisposable>();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is nn.Module<Tensor, Tensor> hookable && counters.TryGetValue(module.GetType(), out var count))
                removers.Add(new HookRemoval(hookable.register_forward_hook((m, _, output) =>
                {
                    total += count(m, output);
                    return output;
                })));
        }
        bool training = model.training;
        try
        {
            model.eval();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            model.call(zeros(new[] { 1L }.Concat(imageShape).ToArray(), device: device));
        }
        finally
        {
            removers.ForEach(r => r.Dispose());
            model.train(training);
        }
        return total;
    }

    private sealed class HookRemoval(nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover remover) : IDisposable
    {
        public void Dispose() => remover.remove();
    }
}
