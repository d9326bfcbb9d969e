using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// How a block of 16 consecutive filters n0..n0+15 (two 8-lane vectors) reads input channel (n mod P) + P*j, the
/// j-th KxK channel of each lane's filter, from one NHWC pixel. The shifted arrangement makes this a plain vector
/// load: for P dividing 8 the lanes need channels P*j .. P*j+P-1 repeated, one sub-vector broadcast serving both
/// vectors; for P a multiple of 16 they need 16 consecutive channels from (n0 mod P) + P*j.
/// <c>p</c> points at channel P*j + (n0 mod P) of the pixel.
/// </summary>
internal unsafe interface ILaneLoad
{
    /// <summary>True when both vectors see the same channels (then <see cref="Second"/> is not called).</summary>
    static abstract bool Shared { get; }
    static abstract Vector256<float> First(float* p);
    static abstract Vector256<float> Second(float* p);
}

internal unsafe struct PartOneLoad : ILaneLoad
{
    public static bool Shared => true;
    public static Vector256<float> First(float* p) => Avx.BroadcastScalarToVector256(p);
    public static Vector256<float> Second(float* p) => First(p);
}

internal unsafe struct PartTwoLoad : ILaneLoad
{
    public static bool Shared => true;
    public static Vector256<float> First(float* p) => Avx.BroadcastScalarToVector256((double*)p).AsSingle();
    public static Vector256<float> Second(float* p) => First(p);
}

internal unsafe struct PartFourLoad : ILaneLoad
{
    public static bool Shared => true;
    public static Vector256<float> First(float* p) => Avx.BroadcastVector128ToVector256(p);
    public static Vector256<float> Second(float* p) => First(p);
}

internal unsafe struct PartEightLoad : ILaneLoad
{
    public static bool Shared => true;
    public static Vector256<float> First(float* p) => Avx.LoadVector256(p);
    public static Vector256<float> Second(float* p) => First(p);
}

internal unsafe struct PartSixteenMultipleLoad : ILaneLoad
{
    public static bool Shared => false;
    public static Vector256<float> First(float* p) => Avx.LoadVector256(p);
    public static Vector256<float> Second(float* p) => Avx.LoadVector256(p + 8);
}
