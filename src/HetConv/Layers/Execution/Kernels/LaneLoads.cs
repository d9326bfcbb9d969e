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
/// The kinds are marker types that <see cref="LaneLoads.First"/> and <see cref="LaneLoads.Second"/> test with
/// typeof: the JIT folds such tests as it reads the code, so a load's address stays one expression it folds into
/// the load instruction (a test it folds only later leaves the address in a register of its own, an instruction
/// more per row).
/// </summary>
internal interface ILaneLoad;

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

    /// <summary>The first vector of a tile's filters at p (see <see cref="ILaneLoad"/>); the JIT keeps only the load the kind names.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe TV First<TOps, TV, TLoad>(float* p) where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad =>
        typeof(TLoad) == typeof(ScalarLoad) ? TOps.Broadcast(p)
        : typeof(TLoad) == typeof(PairLoad) ? TOps.RepeatTwo(p)
        : typeof(TLoad) == typeof(QuadLoad) ? TOps.RepeatFour(p)
        : typeof(TLoad) == typeof(OctetLoad) ? TOps.RepeatEight(p)
        : TOps.Load(p);

    /// <summary>The second vector, where it is not the first's: the next L channels, or its own offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe TV Second<TOps, TV, TLoad>(float* p, nint delta) where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad =>
        TOps.Load(typeof(TLoad) == typeof(SplitLoad) ? p + TOps.Lanes : p + delta);

    /// <summary>Channel offset (n0 mod P) of the tile whose filters start at <paramref name="firstFilter"/>.</summary>
    public static int Base(int part, int firstFilter) => firstFilter % part;

    /// <summary>The second vector's channel offset from the first's.</summary>
    public static int SecondDelta(int part, int lanes, int firstFilter) => (firstFilter + lanes) % part - firstFilter % part;
}

/// <summary>P = 1: every filter reads the same channel, one broadcast for both vectors.</summary>
internal struct ScalarLoad : ILaneLoad;

/// <summary>P = 2: channels 2j, 2j + 1 repeated, for both vectors.</summary>
internal struct PairLoad : ILaneLoad;

/// <summary>P = 4 (at 4 lanes or more): four channels repeated, for both vectors.</summary>
internal struct QuadLoad : ILaneLoad;

/// <summary>P = 8 (at 8 lanes or more): eight channels repeated, for both vectors.</summary>
internal struct OctetLoad : ILaneLoad;

/// <summary>P = L: both vectors read the same L channels.</summary>
internal struct ContiguousLoad : ILaneLoad;

/// <summary>P a multiple of 2L: the second vector reads the next L channels (an offset folded into the load's address).</summary>
internal struct SplitLoad : ILaneLoad;

/// <summary>Otherwise (P an odd multiple of 16 at 16 lanes): the second vector reads from its own offset, which may lie before the first's.</summary>
internal struct SplitAtLoad : ILaneLoad;
