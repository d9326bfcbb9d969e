using System.Runtime.CompilerServices;

namespace HetConv.Layers.Execution.Kernels;


/// <summary>
/// A register tile: rows of two accumulators each (a tile's two vectors of filters), every row reading its input
/// at an address formed from a value of its own and one that all rows share (<see cref="IRowAddress"/>). The forward
/// kernel's rows are output pixels (their corners; the shared value is the tap), the weight gradient's are weight
/// rows (their offsets; the shared value is the pixel's corner). A tile of R rows is the chain
/// <c>TileRow&lt;TV, TileRow&lt;TV, ... TileEnd&lt;TV&gt;&gt;&gt;</c> (see <see cref="KernelDispatch"/>): each
/// operation is written once, for one row, and the JIT inlines the chain, so that every accumulator lives in a
/// register for the whole tile, as if each row were written out.
/// </summary>
/// <remarks>
/// Each inlined copy of a chain costs the JIT locals; past its limit of tracked locals the accumulators would stay
/// on the stack. So a kernel calls few operations on its tile: one to start it, one per loop of multiply-adds, one
/// to store or add up its rows.
/// </remarks>
internal unsafe interface ITile<TV> where TV : struct
{
    static abstract int Rows { get; }

    /// <summary>Every row's accumulators start at (first, second); row i's own part of its address is addresses[i].</summary>
    void Start(TV first, TV second, nint* addresses);

    /// <summary>
    /// Each row's first accumulator += v0 times the first vector <typeparamref name="TLoad"/> reads at the row's
    /// address (<typeparamref name="TAddress"/> of its own and the <paramref name="shared"/> value), its second += v1
    /// times the second (see <see cref="ILaneLoad"/>).
    /// </summary>
    void MultiplyAdd<TOps, TLoad, TAddress>(TV v0, TV v1, nint shared, nint delta)
        where TOps : struct, IVectorOps<TV> where TLoad : struct, ILaneLoad where TAddress : struct, IRowAddress;

    /// <summary>
    /// Stores row i at <paramref name="p"/> + i <paramref name="stride"/> (first vector, then the next L floats), after
    /// adding the values at the same place of <paramref name="residual"/> (unless null), then clamping at zero when
    /// <paramref name="relu"/>.
    /// </summary>
    void Store<TOps>(float* p, float* residual, nint stride, bool relu) where TOps : struct, IVectorOps<TV>;

    /// <summary>Adds row i's first vector into first + i stride, its second into second + i stride when <paramref name="both"/>.</summary>
    void AddInto<TOps>(float* first, float* second, nint stride, bool both) where TOps : struct, IVectorOps<TV>;
}

/// <summary>The end of a tile's chain of rows: no rows, nothing to do.</summary>
internal unsafe struct TileEnd<TV> : ITile<TV> where TV : struct
{
    public static int Rows => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(TV first, TV second, nint* addresses) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MultiplyAdd<TOps, TLoad, TAddress>(TV v0, TV v1, nint shared, nint delta)
        where TOps : struct, IVectorOps<TV> where TLoad : struct, ILaneLoad where TAddress : struct, IRowAddress { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TOps>(float* p, float* residual, nint stride, bool relu) where TOps : struct, IVectorOps<TV> { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddInto<TOps>(float* first, float* second, nint stride, bool both) where TOps : struct, IVectorOps<TV> { }
}

/// <summary>One row of a tile, then the rows of <typeparamref name="TRest"/>.</summary>
internal unsafe struct TileRow<TV, TRest> : ITile<TV> where TV : struct where TRest : struct, ITile<TV>
{
    private TV first, second;
    private nint address;
#pragma warning disable CS0649 // the following rows are set through their own Start
    private TRest rest;
#pragma warning restore CS0649

    public static int Rows => 1 + TRest.Rows;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(TV first, TV second, nint* addresses)
    {
        this.first = first;
        this.second = second;
        address = *addresses;
        rest.Start(first, second, addresses + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MultiplyAdd<TOps, TLoad, TAddress>(TV v0, TV v1, nint shared, nint delta)
        where TOps : struct, IVectorOps<TV> where TLoad : struct, ILaneLoad where TAddress : struct, IRowAddress
    {
        // Both vectors read the same channels but for the split kinds (tested with typeof: see ILaneLoad).
        var x = LaneLoads.First<TOps, TV, TLoad>(TAddress.At(address, shared));
        first = TOps.MultiplyAdd(v0, x, first);
        if (typeof(TLoad) == typeof(SplitLoad) || typeof(TLoad) == typeof(SplitAtLoad))
            x = LaneLoads.Second<TOps, TV, TLoad>(TAddress.At(address, shared), delta);
        second = TOps.MultiplyAdd(v1, x, second);
        rest.MultiplyAdd<TOps, TLoad, TAddress>(v0, v1, shared, delta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TOps>(float* p, float* residual, nint stride, bool relu) where TOps : struct, IVectorOps<TV>
    {
        TV a = first, b = second;
        if (residual != null)
        {
            a = TOps.Add(a, TOps.Load(residual));
            b = TOps.Add(b, TOps.Load(residual + TOps.Lanes));
        }
        if (relu)
        {
            a = TOps.Relu(a);
            b = TOps.Relu(b);
        }
        TOps.Store(p, a);
        TOps.Store(p + TOps.Lanes, b);
        rest.Store<TOps>(p + stride, residual == null ? null : residual + stride, stride, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddInto<TOps>(float* first, float* second, nint stride, bool both) where TOps : struct, IVectorOps<TV>
    {
        TOps.Store(first, TOps.Add(TOps.Load(first), this.first));
        if (both) TOps.Store(second, TOps.Add(TOps.Load(second), this.second));
        rest.AddInto<TOps>(first + stride, second + stride, stride, both);
    }
}

/// <summary>How a tile row's input address is formed from the row's own value and the value all rows share.</summary>
internal unsafe interface IRowAddress
{
    static abstract float* At(nint row, nint shared);
}

/// <summary>Rows are pointers (output pixels' corners), the shared value a float offset (a tap): the forward pass.</summary>
internal unsafe struct RowPointer : IRowAddress
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* At(nint row, nint shared) => (float*)row + shared;
}

/// <summary>Rows are float offsets (weight rows), the shared value a pointer (a pixel's corner): the weight gradient.</summary>
internal unsafe struct RowOffset : IRowAddress
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* At(nint row, nint shared) => (float*)shared + row;
}
