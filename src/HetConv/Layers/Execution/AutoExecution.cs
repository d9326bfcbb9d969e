using HetConv.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Layers.Execution;

/// <summary>
/// Picks the fastest strategy per call (everything that can change the answer, see <see cref="AutoKey"/>), like
/// cuDNN's benchmark mode: the first call with a new key times every strategy that supports it side by side on that
/// very call, later calls reuse the choice (the preferred strategy unless another is clearly faster, see
/// <see cref="ClearMargin"/>). Masked dense is never a candidate.
/// </summary>
/// <remarks>
/// At most <see cref="Capacity"/> choices are kept; past that the least recently used is dropped (and timed again if
/// it comes back). Timings run one at a time: concurrent first calls with one key wait for its single timing, and two
/// timings never share the cores, which would skew both.
/// </remarks>
public sealed class AutoExecution : IHetConvExecution
{
    /// <summary>Enough for every layer of the zoo's models under a few batch sizes, modes and layouts.</summary>
    public const int DefaultCapacity = 512;

    private readonly IReadOnlyList<IHetConvExecution>? candidates;
    private readonly object gate = new();     // guards the two collections below
    private readonly object timing = new();   // held while timing
    private readonly Dictionary<AutoKey, LinkedListNode<(AutoKey Key, IHetConvExecution Choice)>> byKey = new();
    private readonly LinkedList<(AutoKey Key, IHetConvExecution Choice)> byRecency = new();   // most recent first
    private readonly Dictionary<string, IHetConvExecution> adopted = new();                    // by AutoKey.ToString()

    public AutoExecution(int capacity = DefaultCapacity) : this(null, capacity)
    {
    }

    /// <summary>Chooses among <paramref name="candidates"/>, the preferred first (null: <see cref="HetConvExecutions.Selectable"/>).</summary>
    internal AutoExecution(IReadOnlyList<IHetConvExecution>? candidates, int capacity)
    {
        if (capacity < 1) throw new ArgumentException($"capacity = {capacity} must be >= 1.", nameof(capacity));
        this.candidates = candidates;
        Capacity = capacity;
    }

    public string Name => "auto";

    /// <summary>How many choices are kept at most.</summary>
    public int Capacity { get; }

    /// <summary>The choices kept, for reports: a copy.</summary>
    public IReadOnlyDictionary<AutoKey, IHetConvExecution> Choices
    {
        get { lock (gate) return byKey.ToDictionary(kv => kv.Key, kv => kv.Value.Value.Choice); }
    }

    public Tensor Forward(HetConv2d layer, Tensor input) =>
        Choose(layer, input, AutoCall.Forward).Forward(layer, input);

    public Tensor ForwardRelu(HetConv2d layer, Tensor input) =>
        Choose(layer, input, AutoCall.ForwardRelu).ForwardRelu(layer, input);

    public Tensor ForwardAddRelu(HetConv2d layer, Tensor input, Tensor residual) =>
        Choose(layer, input, AutoCall.ForwardAddRelu, residual).ForwardAddRelu(layer, input, residual);

    /// <summary>
    /// Takes earlier choices (a key's <see cref="AutoKey.ToString"/> to strategy name, as a checkpoint records
    /// <see cref="Choices"/>) in place of timing, so that a process continuing another's work (a resumed training
    /// run) computes with the same kernels, and so sums in the same order, bit for bit.
    /// </summary>
    public void Adopt(IReadOnlyDictionary<string, string> earlier)
    {
        lock (gate)
            foreach (var (key, name) in earlier)
                adopted[key] = HetConvExecutions.Parse(name);
    }

    /// <summary>The strategy for this call, timed now if its key has no choice yet.</summary>
    public IHetConvExecution Choose(HetConv2d layer, Tensor input, AutoCall call = AutoCall.Forward, Tensor? residual = null)
    {
        if (call == AutoCall.ForwardAddRelu && residual is null)
            throw new ArgumentException("ForwardAddRelu needs its residual.", nameof(residual));
        var key = AutoKey.Of(layer, input, call, residual);
        if (TryGet(key, out var choice)) return choice;
        lock (timing)
        {
            if (TryGet(key, out choice)) return choice;   // timed by a concurrent call meanwhile
            lock (gate) adopted.TryGetValue(key.ToString(), out choice);
            choice ??= Measure(layer, input, call, residual, key.Autograd);
            Add(key, choice);
            return choice;
        }
    }

    private bool TryGet(AutoKey key, out IHetConvExecution choice)
    {
        lock (gate)
        {
            if (!byKey.TryGetValue(key, out var node))
            {
                choice = null!;
                return false;
            }
            byRecency.Remove(node);
            byRecency.AddFirst(node);
            choice = node.Value.Choice;
            return true;
        }
    }

    private void Add(AutoKey key, IHetConvExecution choice)
    {
        lock (gate)
        {
            byKey[key] = byRecency.AddFirst((key, choice));
            if (byKey.Count <= Capacity) return;
            byKey.Remove(byRecency.Last!.Value.Key);
            byRecency.RemoveLast();
        }
    }

    private IHetConvExecution Measure(HetConv2d layer, Tensor input, AutoCall call, Tensor? residual, bool training)
    {
        var supported = (candidates ?? HetConvExecutions.Selectable).Where(e => e.Supports(layer, input)).ToList();
        if (supported.Count == 1) return supported[0];

        Tensor Run(IHetConvExecution e, Tensor x) => call switch
        {
            AutoCall.ForwardRelu => e.ForwardRelu(layer, x),
            AutoCall.ForwardAddRelu => e.ForwardAddRelu(layer, x, residual!),
            _ => e.Forward(layer, x),
        };
        var parameters = layer.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList();
        var timed = supported.Select(e => new TimedCandidate(e.Name, () =>
        {
            using var scope = NewDisposeScope();
            if (!training)
            {
                using var noGrad = no_grad();
                Run(e, input);
                return;
            }
            // Gradients through autograd.grad, so the layer's .grad fields are left alone.
            var x = input.detach().requires_grad_(true);
            var y = Run(e, x);
            torch.autograd.grad(new[] { y }, new List<Tensor>(parameters) { x }, new[] { ones_like(y) }, allow_unused: true);
        })).ToList();
        // Other load only ever slows a run down, so the fast end of each strategy's timings compares the strategies
        // rather than the machine's load at the moment.
        var timings = InterleavedTimer.Measure(timed, warmup: 1, repetitions: 5);
        var fastest = supported.MinBy(e => timings[e.Name].P10Ms)!;
        var preferred = supported[0];
        return timings[fastest.Name].P10Ms < ClearMargin * timings[preferred.Name].P10Ms ? fastest : preferred;
    }

    /// <summary>
    /// Another strategy replaces the preferred one (the first of <see cref="HetConvExecutions.Selectable"/>) only when
    /// clearly faster. Near ties would otherwise go either way with the machine's load, so two runs (a training run
    /// and its resumption, in another process) could sum in different orders and drift apart.
    /// </summary>
    private const double ClearMargin = 0.85;
}

/// <summary>Which of a strategy's methods a call runs: each can be fastest under a different strategy.</summary>
public enum AutoCall
{
    Forward,
    ForwardRelu,
    ForwardAddRelu,
}

/// <summary>
/// Everything that can change <see cref="AutoExecution"/>'s choice: the layer's configuration and weights' type and
/// device, the method called (with the residual's layout and type for the fused addition), the input's shape,
/// layout (strides), type and device, whether autograd records the call, the layer's mode and whether its derived
/// weights are trusted (both change what a call packs), and torch's thread count.
/// </summary>
public readonly record struct AutoKey(
    string Layer,
    string Weights,
    AutoCall Call,
    string Input,
    string? Residual,
    bool Autograd,
    bool LayerTraining,
    bool TrustedWeights,
    int Threads)
{
    public static AutoKey Of(HetConv2d layer, Tensor input, AutoCall call, Tensor? residual) => new(
        layer.ToString(),
        Describe(layer.KxkWeight, withShape: false),
        call,
        Describe(input),
        residual is null ? null : Describe(residual) + (residual.requires_grad ? " requires_grad" : ""),
        layer.NeedsAutograd(input),
        layer.training,
        layer.TrustDerivedWeights,
        torch.get_num_threads());

    private static string Describe(Tensor t, bool withShape = true) =>
        (withShape ? $"[{string.Join(",", t.shape)}] strides [{string.Join(",", t.stride())}] " : "") +
        $"{t.dtype} {t.device_type}:{t.device_index}";
}
