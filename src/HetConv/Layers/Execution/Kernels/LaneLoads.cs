using System.Runtime.CompilerServices;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// How the two vectors of a register tile's filters, n0 .. n0 + L - 1 and n0 + L .. n0 + 2L - 1 (L lanes each),
/// read input channel (n mod P) + P*j, the j-th KxK channel of each lane's filter, from one NHWC pixel. The
/// shifted arrangement makes this a plain vector load: for P below L the lanes need channels P*j .. P*j+P-1
/// repeated, one broadcast serving both vectors; for P = L both vectors need the same L channels; for P above L
/// each vector needs L consecutive channels from (its first filter mod P) + P*j, which for the second vector is
/// L channels on except where its filters wrap past P (AVX-512 with P an odd multiple of 16).
/// <c>p</c> points at channel P*j + (n0 mod P) of the pixel; <c>delta</c> is the second vector's channel offset.
/// </summary>
internal unsafe interface ILaneLoad
{
    /// <summary>True when both vectors see the same channels (then <see cref="Second"/> is not called).</summary>
    static abstract bool Shared { get; }

    static abstract TVector First<TOps, TVector>(float* p) where TOps : struct, IVectorOps<TVector> where TVector : struct;

    static abstract TVector Second<TOps, TVector>(float* p, nint delta) where TOps : struct, IVectorOps<TVector> where TVector : struct;
}

/// <summary>Which <see cref="ILaneLoad"/> a part needs at a width, and where a tile's filters start reading.</summary>
internal enum LaneLoadKind { Scalar, Pair, Quad, Octet, Contiguous, Split, SplitAt }

internal static class LaneLoads
{
    public static bool SupportsPart(int part) => part is 1 or 2 or 4 or 8 || part % 16 == 0;

    public static LaneLoadKind For(int part, int lanes) => part switch
    {
        1 => LaneLoadKind.Scalar,
        2 => LaneLoadKind.Pair,
        4 when lanes >= 4 => LaneLoadKind.Quad,
        8 when lanes >= 8 => LaneLoadKind.Octet,
        _ when part == lanes => LaneLoadKind.Contiguous,
        _ when part % (2 * lanes) == 0 => LaneLoadKind.Split,
        _ => LaneLoadKind.SplitAt,
    };

    /// <summary>Channel offset (n0 mod P) of the tile whose filters start at <paramref name="firstFilter"/>.</summary>
    public static int Base(int part, int firstFilter) => firstFilter % part;

    /// <summary>The second vector's channel offset from the first's.</summary>
    public static int SecondDelta(int part, int lanes, int firstFilter) => (firstFilter + lanes) % part - firstFilter % part;
}

internal unsafe struct ScalarLoad : ILaneLoad
{
    public static bool Shared => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV First<TOps, TV>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Broadcast(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Second<TOps, TV>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Broadcast(p);
}

internal unsafe struct PairLoad : ILaneLoad
{
    public static bool Shared => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV First<TOps, TV>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.RepeatTwo(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Second<TOps, TV>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.RepeatTwo(p);
}

internal unsafe struct QuadLoad : ILaneLoad
{
    public static bool Shared => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV First<TOps, TV>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.RepeatFour(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Second<TOps, TV>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.RepeatFour(p);
}

internal unsafe struct OctetLoad : ILaneLoad
{
    public static bool Shared => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV First<TOps, TV>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.RepeatEight(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Second<TOps, TV>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.RepeatEight(p);
}

internal unsafe struct ContiguousLoad : ILaneLoad
{
    public static bool Shared => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV First<TOps, TV>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Second<TOps, TV>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Load(p);
}

/// <summary>The second vector reads the next L channels (a constant offset folded into the load's address).</summary>
internal unsafe struct SplitLoad : ILaneLoad
{
    public static bool Shared => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV First<TOps, TV>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Second<TOps, TV>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Load(p + TOps.Lanes);
}

/// <summary>The second vector reads from its own offset, which may lie before the first's.</summary>
internal unsafe struct SplitAtLoad : ILaneLoad
{
    public static bool Shared => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV First<TOps, TV>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Second<TOps, TV>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct => TOps.Load(p + delta);
}
