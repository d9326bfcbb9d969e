using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// The vector operations the NHWC kernels are written over, one implementation per width (<see cref="Vector128Ops"/>,
/// <see cref="Vector256Ops"/>, <see cref="Vector512Ops"/>). The kernels are generic methods over a struct of this
/// kind, so the JIT compiles one specialized copy per width with every call inlined: one source, three machine
/// codes. A kernel's register tile is rows (output pixels, or weight rows) by two vectors of
/// filters (see <see cref="ITile{TV}"/>); with AVX-512's 32 registers it holds twice the rows of AVX2's 16.
/// </summary>
internal unsafe interface IVectorOps<TVector> where TVector : struct
{
    /// <summary>Floats per vector; divides 16, the filter block of <see cref="PackedHetConvWeights"/>.</summary>
    static abstract int Lanes { get; }

    static abstract TVector Load(float* p);
    static abstract void Store(float* p, TVector value);

    /// <summary>p[0] in every lane.</summary>
    static abstract TVector Broadcast(float* p);

    /// <summary>p[0], p[1] repeated over the vector.</summary>
    static abstract TVector RepeatTwo(float* p);

    /// <summary>p[0..3] repeated over the vector.</summary>
    static abstract TVector RepeatFour(float* p);

    /// <summary>p[0..7] repeated over the vector (widths of 8 lanes or more).</summary>
    static abstract TVector RepeatEight(float* p);

    /// <summary>a * b + c, rounded once.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Add(TVector a, TVector b);
    static abstract TVector Subtract(TVector a, TVector b);
    static abstract TVector Multiply(TVector a, TVector b);

    /// <summary>value where test &gt; 0, else 0 (the gradient through a ReLU whose output was test).</summary>
    static abstract TVector WherePositive(TVector value, TVector test);

    /// <summary>max(a, 0) as the hardware computes it (a NaN becomes 0, as in the x86 instruction).</summary>
    static abstract TVector Relu(TVector a);
}

internal unsafe struct Vector128Ops : IVectorOps<Vector128<float>>
{
    public static int Lanes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector128<float> value) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float* p) => Vector128.Create(*p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> RepeatTwo(float* p) => Vector128.Create(*(double*)p).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> RepeatFour(float* p) => Vector128.Load(p);
    public static Vector128<float> RepeatEight(float* p) => throw new NotSupportedException("a 4-lane vector cannot repeat 8 floats");
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> WherePositive(Vector128<float> value, Vector128<float> test) => value & Vector128.GreaterThan(test, default);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Relu(Vector128<float> a) => Vector128.MaxNative(a, Vector128<float>.Zero);
}

internal unsafe struct Vector256Ops : IVectorOps<Vector256<float>>
{
    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> value) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float* p) => Avx.IsSupported ? Avx.BroadcastScalarToVector256(p) : Vector256.Create(*p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> RepeatTwo(float* p) => Avx.IsSupported ? Avx.BroadcastScalarToVector256((double*)p).AsSingle() : Vector256.Create(*(double*)p).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> RepeatFour(float* p) => Avx.IsSupported ? Avx.BroadcastVector128ToVector256(p) : Vector256.Create(Vector128.Load(p), Vector128.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> RepeatEight(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> WherePositive(Vector256<float> value, Vector256<float> test) => value & Vector256.GreaterThan(test, default);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Relu(Vector256<float> a) => Vector256.MaxNative(a, Vector256<float>.Zero);
}

internal unsafe struct Vector512Ops : IVectorOps<Vector512<float>>
{
    public static int Lanes => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> value) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float* p) => Vector512.Create(*p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> RepeatTwo(float* p) => Vector512.Create(*(double*)p).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RepeatFour(float* p) => Avx512F.IsSupported ? Avx512F.BroadcastVector128ToVector512((int*)p).AsSingle()
        : Vector512.Create(Vector256.Create(Vector128.Load(p), Vector128.Load(p)), Vector256.Create(Vector128.Load(p), Vector128.Load(p)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RepeatEight(float* p) => Avx512F.IsSupported ? Avx512F.BroadcastVector256ToVector512((long*)p).AsSingle()
        : Vector512.Create(Vector256.Load(p), Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> WherePositive(Vector512<float> value, Vector512<float> test) => value & Vector512.GreaterThan(test, default);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Relu(Vector512<float> a) => Vector512.MaxNative(a, Vector512<float>.Zero);
}

/// <summary>How a kernel call maps the chosen width onto its filters.</summary>
internal static class KernelWidths
{
    /// <summary>
    /// The width a pass over <paramref name="filters"/> filters runs at: AVX-512's tile covers 32 filters, so 16 or
    /// fewer would leave its second vector idle; those run the AVX2 tile, which covers 16 (AVX-512 implies AVX2).
    /// </summary>
    public static VectorWidth For(VectorWidth width, int filters) =>
        width == VectorWidth.Avx512 && filters <= 16 ? VectorWidth.Avx2 : width;

    /// <summary>Columns of a tile's two vectors needed for <paramref name="filters"/> filters.</summary>
    public static int Columns(int filters, int lanes) => (filters + 2 * lanes - 1) / (2 * lanes);
}
