namespace HetConv.Layers;

/// <summary>
/// The kernel layout of a HetConv layer: which input channels each filter sees through a KxK kernel
/// and which through a 1x1 kernel (the KxK kernel's centre tap). Pure bookkeeping, no tensors.
/// </summary>
/// <remarks>
/// The M/P input channels of each "KxK group" g are fixed per group; every filter belongs to exactly one
/// group. Shifted: group g = channels {g, g+P, g+2P, ...} and filter n is in group n mod P.
/// Blocked: group g = channels [g*M/P, (g+1)*M/P) and the filters of group g form the g-th contiguous run,
/// as long as the residue class g of the shifted arrangement.
/// </remarks>
public sealed class HetConvPattern
{
    private readonly int[] groupOfFilter;
    private readonly int[][] groupChannels;

    public HetConvPattern(int inChannels, int outChannels, int kernelSize, int part, HetConvArrangement arrangement)
    {
        Validate(inChannels, outChannels, kernelSize, part);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Part = part;
        Arrangement = arrangement;

        int perGroup = inChannels / part;
        groupChannels = new int[part][];
        for (int g = 0; g < part; g++)
        {
            groupChannels[g] = arrangement == HetConvArrangement.Shifted
                ? Enumerable.Range(0, perGroup).Select(j => g + part * j).ToArray()
                : Enumerable.Range(g * perGroup, perGroup).ToArray();
        }

        groupOfFilter = new int[outChannels];
        if (arrangement == HetConvArrangement.Shifted)
        {
            for (int n = 0; n < outChannels; n++) groupOfFilter[n] = n % part;
        }
        else
        {
            int n = 0;
            for (int g = 0; g < part; g++)
                for (int i = 0; i < FiltersInGroup(g); i++) groupOfFilter[n++] = g;
        }
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Part { get; }
    public HetConvArrangement Arrangement { get; }

    /// <summary>KxK kernels per filter: M/P.</summary>
    public int KxkPerFilter => InChannels / Part;

    /// <summary>1x1 kernels per filter: M - M/P.</summary>
    public int PointwisePerFilter => InChannels - KxkPerFilter;

    /// <summary>Filters per group when padded to equal size: ceil(N/P) (grouped convolutions need equal groups).</summary>
    public int SlotsPerGroup => (OutChannels + Part - 1) / Part;

    /// <summary>Learnable weights: N * (M/P * K^2 + M - M/P).</summary>
    public long WeightCount => (long)OutChannels * (KxkPerFilter * KernelSize * KernelSize + PointwisePerFilter);

    /// <summary>
    /// The paper's cost of a HetConv layer against the standard convolution of the same shape: 1/P + (1 - 1/P)/K^2
    /// of its FLOPs (1/P of each filter's kernels are KxK, the rest cost 1/K^2 of one). Its inverse is the speedup
    /// the FLOPs promise (the paper's Figure 5). P may be fractional, to draw the curve between whole parts.
    /// </summary>
    public static double FlopsFraction(double part, int kernelSize) => 1 / part + (1 - 1 / part) / (kernelSize * kernelSize);

    /// <summary>Number of filters in KxK group g: the size of residue class g among 0..N-1.</summary>
    public int FiltersInGroup(int g) => (OutChannels - g + Part - 1) / Part;

    /// <summary>Input channels (ascending) on which filter n has KxK kernels.</summary>
    public IReadOnlyList<int> KxkChannels(int filter) => groupChannels[groupOfFilter[filter]];

    /// <summary>Input channels (ascending) on which filter n has 1x1 kernels.</summary>
    public int[] PointwiseChannels(int filter)
    {
        var kxk = KxkChannels(filter);
        return Enumerable.Range(0, InChannels).Where(m => !kxk.Contains(m)).ToArray();
    }

    /// <summary>
    /// Input channel order that makes every group's channels contiguous (group 0 first), so that one grouped
    /// convolution with P groups computes all KxK kernels. The identity for <see cref="HetConvArrangement.Blocked"/>.
    /// </summary>
    public int[] GroupedInputOrder() => groupChannels.SelectMany(c => c).ToArray();

    /// <summary>
    /// The grouped convolution's output slots: group g owns slots [g*S, (g+1)*S) with S = <see cref="SlotsPerGroup"/>.
    /// Entry s is the filter computed in slot s, or -1 for a padding slot (when P does not divide N).
    /// </summary>
    public int[] FilterOfSlot()
    {
        var slots = Enumerable.Repeat(-1, Part * SlotsPerGroup).ToArray();
        var used = new int[Part];
        for (int n = 0; n < OutChannels; n++)
        {
            int g = groupOfFilter[n];
            slots[g * SlotsPerGroup + used[g]++] = n;
        }
        return slots;
    }

    /// <summary>Inverse of <see cref="FilterOfSlot"/>: the slot that computes filter n.</summary>
    public int[] SlotOfFilter()
    {
        var slotOf = new int[OutChannels];
        var filters = FilterOfSlot();
        for (int s = 0; s < filters.Length; s++)
            if (filters[s] >= 0) slotOf[filters[s]] = s;
        return slotOf;
    }

    /// <summary>Valid parts for M input channels: the divisors of M.</summary>
    public static IEnumerable<int> ValidParts(int inChannels) =>
        Enumerable.Range(1, Math.Max(inChannels, 1)).Where(p => inChannels % p == 0);

    public static void Validate(int inChannels, int outChannels, int kernelSize, int part)
    {
        if (inChannels <= 0)
            throw new ArgumentException($"in_channels M = {inChannels} must be positive.", nameof(inChannels));
        if (outChannels <= 0)
            throw new ArgumentException($"out_channels N = {outChannels} must be positive.", nameof(outChannels));
        if (kernelSize < 1 || kernelSize % 2 == 0)
            throw new ArgumentException(
                $"kernel_size K = {kernelSize} must be odd and >= 1 (1, 3, 5, ...) so that the 1x1 kernels sit on a centre tap.",
                nameof(kernelSize));
        if (part < 1 || inChannels % part != 0)
            throw new ArgumentException(
                $"part P = {part} must be >= 1 and divide in_channels M = {inChannels}; valid parts: {string.Join(", ", ValidParts(inChannels))}.",
                nameof(part));
    }
}
