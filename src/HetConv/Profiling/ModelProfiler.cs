using static TorchSharp.torch;

namespace HetConv.Profiling;

/// <summary>
/// Counts FLOPs and parameters of any TorchSharp module by running one forward pass with a hook on every module,
/// so every module that really runs is counted as often as it runs, whatever the model's code looks like.
/// </summary>
public static class ModelProfiler
{
    /// <summary>
    /// Profiles <paramref name="model"/> on an input of zeros of shape <paramref name="input"/> ([C, H, W] means
    /// batch 1). Runs in evaluation mode without gradients on the model's device and restores its training mode.
    /// </summary>
    /// <remarks>
    /// Counts come from shapes alone, so the input is zeros: a random one would draw from torch's global generator,
    /// and a training run that profiles its model on resuming would then draw differently from one never stopped.
    /// </remarks>
    public static ModelProfile Profile(nn.Module<Tensor, Tensor> model, long[] input, FlopConvention convention) =>
        Profile(model, input, new[] { convention })[0];

    /// <summary>One profile per convention, from a single forward pass.</summary>
    public static IReadOnlyList<ModelProfile> Profile(nn.Module<Tensor, Tensor> model, long[] input, IReadOnlyList<FlopConvention> conventions)
    {
        if (input.Length == 0 || input.Any(d => d < 1))
            throw new ArgumentException($"input shape [{string.Join(", ", input)}] must have positive sizes.", nameof(input));
        var tables = conventions.Select(FlopHandlers.For).ToArray();
        long[] batched = input.Length == 3 ? input.Prepend(1L).ToArray() : input;

        var modules = UniqueModules(model);
        var flops = new Dictionary<nn.Module, double[]>(ReferenceEqualityComparer.Instance);
        var removers = new List<Action>();
        foreach (var (_, module) in modules)
        {
            var handlers = tables.Select(t => HandlerFor(t, module.GetType())).ToArray();
            if (module is not nn.Module<Tensor, Tensor> hookable || handlers.All(h => h is null))
                continue;
            var counts = flops[module] = new double[tables.Length];
            var remover = hookable.register_forward_hook((m, x, y) =>
            {
                for (int c = 0; c < handlers.Length; c++)
                    counts[c] += handlers[c]?.Invoke(m, x.shape, y.shape) ?? 0;
                return null!;
            });
            removers.Add(remover.remove);
        }

        bool wasTraining = model.training;
        try
        {
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var first = model.parameters().FirstOrDefault();
            model.call(zeros(batched, dtype: first?.dtype ?? ScalarType.Float32, device: first?.device ?? CPU));
        }
        finally
        {
            foreach (var remove in removers) remove();
            model.train(wasTraining);
        }

        var owned = modules.Select(m => (
            m.Name, m.Module,
            Params: m.Module.named_parameters(recurse: false).Sum(p => p.parameter.numel()),
            Buffers: m.Module.named_buffers(recurse: false).Sum(b => b.buffer.numel()))).ToList();
        return conventions.Select((convention, c) => new ModelProfile(input, convention, owned
            .Select(m => new LayerProfile(m.Name, m.Module.GetType().Name, flops.GetValueOrDefault(m.Module)?[c] ?? 0, m.Params, m.Buffers))
            .Where(l => l.Params > 0 || l.Buffers > 0 || l.Flops > 0)
            .ToList())).ToList();
    }

    /// <summary>
    /// The model and its descendants depth-first in definition order, each once (a module reused in two places
    /// runs, and counts, twice, but is listed once).
    /// </summary>
    private static List<(string Name, nn.Module Module)> UniqueModules(nn.Module model)
    {
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        var modules = new List<(string, nn.Module)>();
        void Visit(string name, nn.Module module)
        {
            if (!seen.Add(module)) return;
            modules.Add((name, module));
            foreach (var (childName, child) in module.named_children())
                Visit(name == "" ? childName : $"{name}.{childName}", child);
        }
        Visit("", model);
        return modules;
    }

    /// <summary>The handler of the type or, failing that, of its nearest base type that has one.</summary>
    private static FlopHandler? HandlerFor(IReadOnlyDictionary<Type, FlopHandler> handlers, Type type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (handlers.TryGetValue(t, out var handler)) return handler;
        return null;
    }
}
