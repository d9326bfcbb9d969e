using static TorchSharp.torch;

namespace HetConv.Layers.Execution;

/// <summary>
/// A <see cref="HetConvPattern"/>'s channel bookkeeping as int64 tensors on one device, built once per layer and
/// device. Permutations that are the identity (the blocked arrangement) are null so strategies can skip them.
/// </summary>
public sealed class HetConvIndexTensors : IDisposable
{
    internal HetConvIndexTensors(HetConvPattern pattern, Device device)
    {
        // Built lazily inside some caller's forward pass: keep these out of that caller's dispose scope,
        // they live as long as the layer (which disposes them).
        using var scope = NewDisposeScope();
        int n = pattern.OutChannels;
        KxkChannels = Index(Enumerable.Range(0, n).SelectMany(pattern.KxkChannels), device).reshape(n, pattern.KxkPerFilter);
        PointwiseChannels = Index(Enumerable.Range(0, n).SelectMany(pattern.PointwiseChannels), device)
            .reshape(n, pattern.PointwisePerFilter);

        var inputOrder = pattern.GroupedInputOrder();
        GroupedInputOrder = IsIdentity(inputOrder) ? null : Index(inputOrder, device);

        // Padding slots read row N, a zero row appended to kxk_weight.
        var filterOfSlot = pattern.FilterOfSlot();
        SlotsNeedPadding = filterOfSlot.Contains(-1);
        var rowOfSlot = filterOfSlot.Select(f => f < 0 ? n : f).ToArray();
        KxkRowOfSlot = IsIdentity(rowOfSlot) && !SlotsNeedPadding ? null : Index(rowOfSlot, device);

        var slotOfFilter = pattern.SlotOfFilter();
        SlotOfFilter = IsIdentity(slotOfFilter) && !SlotsNeedPadding ? null : Index(slotOfFilter, device);

        foreach (var kept in new[] { KxkChannels, PointwiseChannels, GroupedInputOrder, KxkRowOfSlot, SlotOfFilter })
            kept?.DetachFromDisposeScope();
    }

    /// <summary>[N, M/P]: filter n's KxK input channels.</summary>
    public Tensor KxkChannels { get; }

    /// <summary>[N, M - M/P]: filter n's 1x1 input channels.</summary>
    public Tensor PointwiseChannels { get; }

    /// <summary>[M] input channels in grouped order, or null when that is the identity.</summary>
    public Tensor? GroupedInputOrder { get; }

    /// <summary>[P*S] the kxk_weight row (N for a zero row) each grouped slot uses, or null for the identity.</summary>
    public Tensor? KxkRowOfSlot { get; }

    /// <summary>True when P does not divide N and the grouped convolution computes padding slots.</summary>
    public bool SlotsNeedPadding { get; }

    /// <summary>[N] the grouped slot holding filter n, or null when the slots are already in filter order.</summary>
    public Tensor? SlotOfFilter { get; }

    private static Tensor Index(IEnumerable<int> values, Device device) =>
        tensor(values.Select(v => (long)v).ToArray(), dtype: ScalarType.Int64, device: device);

    private static bool IsIdentity(int[] order) => order.Select((v, i) => v == i).All(x => x);

    public void Dispose()
    {
        KxkChannels.Dispose();
        PointwiseChannels.Dispose();
        GroupedInputOrder?.Dispose();
        KxkRowOfSlot?.Dispose();
        SlotOfFilter?.Dispose();
    }
}
