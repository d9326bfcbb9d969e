using HetConv.Layers.Execution;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Layers;

/// <summary>
/// Heterogeneous-kernel convolution (Singh et al., CVPR 2019). Of each filter's M kernels, M/P are KxK and
/// the other M - M/P are 1x1 (the KxK kernel's centre tap); see <see cref="HetConvArrangement"/> for where.
/// P = 1 is a standard convolution, P = M the paper's per-channel "PC" form.
/// </summary>
/// <remarks>
/// Only the kernels the pattern keeps are parameters, so nothing outside the pattern can be learned or decayed.
/// State-dict keys (stable): <c>kxk_weight</c> [N, M/P, K, K], whose entry [n, j] is the kernel on the j-th
/// input channel (ascending) of filter n's KxK channels; <c>pointwise_weight</c> [N, M - M/P], entry [n, k]
/// on the k-th (ascending) of filter n's remaining channels; <c>bias</c> [N] when enabled.
/// How the output is computed is up to <see cref="Execution"/>; every strategy computes the same function.
/// </remarks>
public sealed class HetConv2d : torch.nn.Module<Tensor, Tensor>
{
    private readonly Parameter kxk_weight;
    private readonly Parameter pointwise_weight;
    private Parameter? bias;   // not readonly: folding a BatchNorm in adds one

    // Keyed by (type, index): TorchSharp's Device has reference equality and a new one per tensor.device call.
    private readonly Dictionary<(DeviceType, int), HetConvIndexTensors> indicesByDevice = new();

    public HetConv2d(
        int inChannels,
        int outChannels,
        int kernelSize = 3,
        int part = 1,
        int stride = 1,
        int? padding = null,
        bool bias = false,
        HetConvArrangement arrangement = HetConvArrangement.Shifted,
        Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(HetConv2d))
    {
        Pattern = new HetConvPattern(inChannels, outChannels, kernelSize, part, arrangement);
        if (stride < 1)
            throw new ArgumentException($"stride = {stride} must be >= 1.", nameof(stride));
        Stride = stride;
        Padding = padding ?? kernelSize / 2;
        if (Padding < 0)
            throw new ArgumentException($"padding = {Padding} must be >= 0.", nameof(padding));

        // PyTorch's Conv2d default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with the fan-in a filter really has.
        long fanIn = Pattern.KxkPerFilter * kernelSize * kernelSize + Pattern.PointwisePerFilter;
        double bound = 1.0 / Math.Sqrt(fanIn);
        kxk_weight = new Parameter(
            empty(outChannels, Pattern.KxkPerFilter, kernelSize, kernelSize, dtype: dtype, device: device).uniform_(-bound, bound));
        pointwise_weight = new Parameter(
            empty(outChannels, Pattern.PointwisePerFilter, dtype: dtype, device: device).uniform_(-bound, bound));
        this.bias = bias ? new Parameter(empty(outChannels, dtype: dtype, device: device).uniform_(-bound, bound)) : null;

        RegisterComponents();
    }

    public HetConvPattern Pattern { get; }
    public int InChannels => Pattern.InChannels;
    public int OutChannels => Pattern.OutChannels;
    public int KernelSize => Pattern.KernelSize;
    public int Part => Pattern.Part;
    public HetConvArrangement Arrangement => Pattern.Arrangement;
    public int Stride { get; }
    public int Padding { get; }

    /// <summary>[N, M/P, K, K]: the KxK kernels, see the class remarks for the channel order.</summary>
    public Parameter KxkWeight => kxk_weight;

    /// <summary>[N, M - M/P]: the 1x1 kernels, see the class remarks for the channel order.</summary>
    public Parameter PointwiseWeight => pointwise_weight;

    public Parameter? Bias => bias;

    /// <summary>How the forward pass is computed. All strategies compute the same function.</summary>
    public IHetConvExecution Execution { get; set; } = HetConvExecutions.Default;

    /// <summary>
    /// Weights a strategy derived from the parameters (e.g. packed for a kernel), kept while the layer is in eval
    /// mode. The strategy checks them against the parameters' current values before use; switching mode, loading
    /// a state dict and the methods of this class that change weights drop them at once. Shared by concurrent
    /// calls, each of which keeps the weights it uses alive until it returns.
    /// </summary>
    internal DerivedWeightsCache DerivedWeights { get; } = new();

    /// <summary>
    /// Whether eval-mode derived weights are used without checking them against the parameters on every call.
    /// Off by default: each call then pays one pass over the weights (a fingerprint of their values), so a change
    /// made to the parameters in place is always seen. On (see <see cref="HetConv.Conversion.InferenceFolding"/>)
    /// for deployment, where that pass is a quarter of a batch-1 forward: the weights are packed once and kept until
    /// <c>train()</c>/<c>eval()</c>, <c>load_state_dict</c>, one of this class's methods that change weights, or
    /// <see cref="InvalidateDerivedWeights"/>, which is what to call after changing parameters in place.
    /// </summary>
    public bool TrustDerivedWeights { get; set; }

    /// <summary>
    /// Whether the output goes through ReLU, as if a ReLU module followed the layer. Set by
    /// <see cref="HetConv.Conversion.ReluFusion"/>, so a strategy can apply it as it stores its output instead of in
    /// another pass over the activations.
    /// </summary>
    public bool ReluOutput { get; set; }

    public void InvalidateDerivedWeights() => DerivedWeights.Clear();

    public override void train(bool train = true)
    {
        InvalidateDerivedWeights();
        base.train(train);
    }

    public override (IList<string> missing_keys, IList<string> unexpected_keyes) load_state_dict(
        Dictionary<string, Tensor> source, bool strict = true, IList<string>? skip = null)
    {
        InvalidateDerivedWeights();
        return base.load_state_dict(source, strict, skip);
    }

    public override Tensor forward(Tensor input)
    {
        CheckInput(input);
        return ReluOutput ? Execution.ForwardRelu(this, input) : Execution.Forward(this, input);
    }

    /// <summary>Whether a forward pass on this input is recorded for a backward pass.</summary>
    internal bool NeedsAutograd(Tensor input) =>
        is_grad_enabled() && (input.requires_grad || parameters().Any(p => p.requires_grad));

    private void CheckInput(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != InChannels)
            throw new ArgumentException(
                $"HetConv2d expects input [batch, {InChannels}, height, width]; got [{string.Join(", ", input.shape)}].",
                nameof(input));
    }

    /// <summary>
    /// relu(this(input) + residual): a residual block's last convolution with its shortcut addition and ReLU, which
    /// the fused kernel applies as it stores its output (inference without autograd) instead of in two more passes.
    /// Runs the module's hooks as <c>call()</c> does, so a profiler sees this convolution like any other: pre-hooks
    /// may replace the input; post-hooks see it and the stored output (the convolution's shape) and may replace that.
    /// Not for a layer with <see cref="ReluOutput"/>, whose ReLU would come before the addition.
    /// </summary>
    public Tensor ForwardAddRelu(Tensor input, Tensor residual)
    {
        if (ReluOutput)
            throw new InvalidOperationException("ForwardAddRelu applies ReLU after the addition; this layer has ReluOutput set, which applies it before.");
        foreach (var hook in module_pre_hooks.Values) hook(this);
        foreach (var hook in pre_hooks.Values) input = hook(this, input) ?? input;
        CheckInput(input);
        var output = Execution.ForwardAddRelu(this, input, residual);
        foreach (var hook in post_hooks.Values) output = hook(this, input, output) ?? output;
        foreach (var hook in module_post_hooks.Values) hook(this);
        return output;
    }

    /// <summary>
    /// The equivalent dense weight [N, M, K, K]: the KxK kernels where the pattern has them, the 1x1 kernels on the
    /// centre tap, zero elsewhere. Differentiable with respect to the layer's parameters.
    /// </summary>
    public Tensor DenseWeight()
    {
        using var scope = NewDisposeScope();
        var ix = IndicesOn(kxk_weight.device);
        int n = OutChannels, m = InChannels, k = KernelSize, taps = k * k;
        var kxk = zeros(n, m, taps, dtype: kxk_weight.dtype, device: kxk_weight.device)
            .scatter(1, ix.KxkChannels.unsqueeze(-1).expand(n, Pattern.KxkPerFilter, taps), kxk_weight.reshape(n, Pattern.KxkPerFilter, taps));
        var dense = kxk.reshape(n, m, k, k);
        if (Pattern.PointwisePerFilter > 0)
        {
            var centre = zeros(1, 1, k, k, dtype: kxk_weight.dtype, device: kxk_weight.device);
            centre[0, 0, k / 2, k / 2] = 1;
            dense = dense + DensePointwiseWeight(ix).reshape(n, m, 1, 1) * centre;
        }
        return dense.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sets the parameters from a dense weight [N, M, K, K] (e.g. of the convolution this layer replaces): the KxK
    /// kernels the pattern keeps, and the centre tap on every other channel. Taps outside the pattern are dropped.
    /// </summary>
    public void CopyFromDense(Tensor dense)
    {
        long[] expected = { OutChannels, InChannels, KernelSize, KernelSize };
        if (!dense.shape.SequenceEqual(expected))
            throw new ArgumentException(
                $"dense weight must be [{string.Join(", ", expected)}]; got [{string.Join(", ", dense.shape)}].", nameof(dense));
        InvalidateDerivedWeights();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ix = IndicesOn(kxk_weight.device);
        var source = dense.to(kxk_weight.dtype, kxk_weight.device);
        int n = OutChannels, taps = KernelSize * KernelSize;
        kxk_weight.copy_(source.reshape(n, InChannels, taps)
            .gather(1, ix.KxkChannels.unsqueeze(-1).expand(n, Pattern.KxkPerFilter, taps))
            .reshape(kxk_weight.shape));
        pointwise_weight.copy_(source[.., .., KernelSize / 2, KernelSize / 2].gather(1, ix.PointwiseChannels));
    }

    /// <summary>
    /// Scales each filter n by <paramref name="scale"/>[n] and adds <paramref name="shift"/>[n] to its output, e.g. to
    /// fold an inference-mode BatchNorm that follows the layer into it. Adds a bias if the layer has none.
    /// </summary>
    public void FoldAffine(Tensor scale, Tensor shift)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var s = scale.to(kxk_weight.dtype, kxk_weight.device);
        var t = shift.to(kxk_weight.dtype, kxk_weight.device);
        kxk_weight.mul_(s.reshape(-1, 1, 1, 1));
        pointwise_weight.mul_(s.reshape(-1, 1));
        if (bias is null)
        {
            bias = new Parameter(t.clone().DetachFromDisposeScope());
            ConditionallyRegisterParameter(nameof(bias), bias);
        }
        else
        {
            bias.mul_(s).add_(t);
        }
        InvalidateDerivedWeights();
    }

    /// <summary>[N, M]: the 1x1 kernels scattered to their input channels, zero on each filter's KxK channels.</summary>
    internal Tensor DensePointwiseWeight(HetConvIndexTensors ix) =>
        zeros(OutChannels, InChannels, dtype: pointwise_weight.dtype, device: pointwise_weight.device)
            .scatter(1, ix.PointwiseChannels, pointwise_weight);

    /// <summary>
    /// [P*S, M/P, K, K]: the KxK kernels in the slot order of one grouped convolution with P groups
    /// (see <see cref="HetConvPattern.FilterOfSlot"/>), zero kernels in padding slots.
    /// </summary>
    internal Tensor GroupedKxkWeight(HetConvIndexTensors ix)
    {
        if (ix.KxkRowOfSlot is null) return kxk_weight;
        var rows = ix.SlotsNeedPadding
            ? cat(new Tensor[] { kxk_weight, zeros_like(kxk_weight[..1]) }, 0)
            : (Tensor)kxk_weight;
        return rows.index_select(0, ix.KxkRowOfSlot);
    }

    internal HetConvIndexTensors IndicesOn(Device device)
    {
        lock (indicesByDevice)
        {
            var key = (device.type, device.index);
            if (!indicesByDevice.TryGetValue(key, out var ix))
            {
                ix = new HetConvIndexTensors(Pattern, device);
                indicesByDevice[key] = ix;
            }
            return ix;
        }
    }

    public override string ToString() =>
        $"HetConv2d({InChannels}, {OutChannels}, kernel_size={KernelSize}, part={Part}, stride={Stride}, " +
        $"padding={Padding}, bias={(bias is not null).ToString().ToLowerInvariant()}, arrangement={Arrangement})";

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (indicesByDevice)
            {
                foreach (var ix in indicesByDevice.Values) ix.Dispose();
                indicesByDevice.Clear();
            }
            InvalidateDerivedWeights();
        }
        base.Dispose(disposing);
    }
}
