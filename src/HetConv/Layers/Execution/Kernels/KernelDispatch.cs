using System.Runtime.Intrinsics;
using V128 = System.Runtime.Intrinsics.Vector128<float>;
using V256 = System.Runtime.Intrinsics.Vector256<float>;
using V512 = System.Runtime.Intrinsics.Vector512<float>;

namespace HetConv.Layers.Execution.Kernels;

// Each width's register tile: rows of two accumulators, as many as the register file holds beside two weight
// vectors and an input. AVX-512: 2 x 12 accumulators, 27 of its 32 registers; AVX2: 2 x 6, 15 of its 16; 128-bit
// vectors the same 15 (x86 has 16, Arm64 32).
using Tile512 = TileRow<V512, TileRow<V512, TileRow<V512, TileRow<V512, TileRow<V512, TileRow<V512,
    TileRow<V512, TileRow<V512, TileRow<V512, TileRow<V512, TileRow<V512, TileRow<V512, TileEnd<V512>>>>>>>>>>>>>;
using Tile256 = TileRow<V256, TileRow<V256, TileRow<V256, TileRow<V256, TileRow<V256, TileRow<V256, TileEnd<V256>>>>>>>;
using Tile128 = TileRow<V128, TileRow<V128, TileRow<V128, TileRow<V128, TileRow<V128, TileRow<V128, TileEnd<V128>>>>>>>;

/// <summary>A kernel pass compiled once per width, lane load and register tile (see <see cref="KernelDispatch"/>).</summary>
internal interface IKernelPass<TArgs> where TArgs : struct
{
    static abstract void Run<TOps, TV, TLoad, TTile>(in TArgs args)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>;
}

/// <summary>
/// Chooses the machine code a kernel pass runs: the width (<see cref="KernelWidths.For"/>), the lane load its part
/// needs at that width (<see cref="LaneLoads.For"/>) and the width's register tile (<see cref="ITile{TV}"/>).
/// </summary>
internal static class KernelDispatch
{
    /// <summary>Rows of the largest register tile (AVX-512's).</summary>
    public const int MaxTileRows = 12;

    public static void Run<TPass, TArgs>(VectorWidth width, int part, int filters, in TArgs args)
        where TPass : IKernelPass<TArgs> where TArgs : struct
    {
        if (!LaneLoads.SupportsPart(part))
            throw new NotSupportedException($"part P = {part}: the NHWC kernel handles P = 1, 2, 4, 8 and multiples of 16.");
        width = KernelWidths.For(width, filters);
        KernelIsa.CountLaunch(width);
        switch (width)
        {
            case VectorWidth.Avx512: WithLoad<TPass, TArgs, Vector512Ops, V512, Tile512>(part, args); break;
            case VectorWidth.Avx2: WithLoad<TPass, TArgs, Vector256Ops, V256, Tile256>(part, args); break;
            default: WithLoad<TPass, TArgs, Vector128Ops, V128, Tile128>(part, args); break;
        }
    }

    private static void WithLoad<TPass, TArgs, TOps, TV, TTile>(int part, in TArgs args)
        where TPass : IKernelPass<TArgs> where TArgs : struct where TOps : struct, IVectorOps<TV> where TV : struct where TTile : struct, ITile<TV>
    {
        switch (LaneLoads.For(part, TOps.Lanes))
        {
            case LaneLoadKind.Scalar: TPass.Run<TOps, TV, ScalarLoad, TTile>(args); break;
            case LaneLoadKind.Pair: TPass.Run<TOps, TV, PairLoad, TTile>(args); break;
            case LaneLoadKind.Quad: TPass.Run<TOps, TV, QuadLoad, TTile>(args); break;
            case LaneLoadKind.Octet: TPass.Run<TOps, TV, OctetLoad, TTile>(args); break;
            case LaneLoadKind.Contiguous: TPass.Run<TOps, TV, ContiguousLoad, TTile>(args); break;
            case LaneLoadKind.Split: TPass.Run<TOps, TV, SplitLoad, TTile>(args); break;
            default: TPass.Run<TOps, TV, SplitAtLoad, TTile>(args); break;
        }
    }
}
