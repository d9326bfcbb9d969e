using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>The vector width the NHWC kernels are compiled for (see <see cref="KernelIsa"/>).</summary>
public enum VectorWidth
{
    /// <summary>128-bit vectors: Arm64 Advanced SIMD, or SSE on x86-64.</summary>
    Vector128,

    /// <summary>256-bit vectors with fused multiply-add: x86-64 AVX2 + FMA.</summary>
    Avx2,

    /// <summary>512-bit vectors: x86-64 AVX-512 (F).</summary>
    Avx512,
}

/// <summary>
/// The one place that decides which vector width the NHWC kernels run with: a width forced on the calling thread
/// (<see cref="Force"/>, for tests and side-by-side benchmarks), else the environment variable <c>HETCONV_ISA</c>
/// (<c>auto</c>, <c>avx512</c>, <c>avx2</c>, <c>vector128</c>), else the widest the CPU accelerates. A width the
/// CPU does not have still runs (.NET emulates it), exactly and slowly, so every width is testable on any machine.
/// A kernel reads the width once, on the thread that calls it; the threads it hands work to all use that one.
/// </summary>
public static class KernelIsa
{
    public const string EnvironmentVariable = "HETCONV_ISA";

    /// <summary>The names <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "auto", "avx512", "avx2", "vector128" };

    [ThreadStatic] private static VectorWidth? forced;
    [ThreadStatic] private static long[]? launches;
    private static readonly Lazy<VectorWidth?> FromEnvironment = new(() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } text ? Parse(text, EnvironmentVariable) : null);

    /// <summary>The width the kernels run with now.</summary>
    public static VectorWidth Current => forced ?? FromEnvironment.Value ?? Widest;

    /// <summary>The widest width this CPU runs natively (Vector512 only where .NET deems 512-bit code fast).</summary>
    public static VectorWidth Widest =>
        IsNative(VectorWidth.Avx512) ? VectorWidth.Avx512 : IsNative(VectorWidth.Avx2) ? VectorWidth.Avx2 : VectorWidth.Vector128;

    /// <summary>Whether the CPU runs <paramref name="width"/> in hardware (otherwise .NET emulates it, slowly).</summary>
    public static bool IsNative(VectorWidth width) => width switch
    {
        VectorWidth.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        VectorWidth.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => Vector128.IsHardwareAccelerated && (AdvSimd.Arm64.IsSupported || Fma.IsSupported),
    };

    /// <summary>Whether the kernels should run here at all: the chosen width is native, or was asked for by name.</summary>
    public static bool KernelsAvailable => forced is not null || FromEnvironment.Value is not null || IsNative(Widest);

    /// <summary>
    /// Runs the kernels this thread calls at <paramref name="width"/> (null: back to the environment's or the CPU's
    /// choice) until the returned scope is disposed: tests run every width, benchmarks time widths side by side.
    /// </summary>
    public static IDisposable Force(VectorWidth? width)
    {
        var previous = forced;
        forced = width;
        return new Restore(previous);
    }

    private sealed class Restore(VectorWidth? previous) : IDisposable
    {
        public void Dispose() => forced = previous;
    }

    /// <summary>
    /// How many kernel passes (a convolution's forward or input gradient, its weight gradient; a BatchNorm sweep) this
    /// thread has launched at a width.
    /// </summary>
    public static long Launches(VectorWidth width) => launches?[(int)width] ?? 0;

    /// <summary>Counts a kernel pass launched on this thread at <paramref name="width"/> (see <see cref="Launches"/>).</summary>
    internal static void CountLaunch(VectorWidth width) => (launches ??= new long[3])[(int)width]++;

    /// <summary>
    /// A width by name (<see cref="Names"/>, any case); <c>auto</c> is null, the CPU's choice. Anything else is an
    /// <see cref="ArgumentException"/> naming the valid values.
    /// </summary>
    public static VectorWidth? Parse(string text, string source = "ISA") => text.Trim().ToLowerInvariant() switch
    {
        "auto" => null,
        "avx512" or "avx-512" => VectorWidth.Avx512,
        "avx2" => VectorWidth.Avx2,
        "vector128" or "neon" or "advsimd" => VectorWidth.Vector128,
        _ => throw new ArgumentException($"{source}: '{text}' is not a vector width; valid: {string.Join(", ", Names)}."),
    };

    /// <summary>The lower-case name of a width, as <see cref="Parse"/> reads it.</summary>
    public static string Name(VectorWidth width) => width switch
    {
        VectorWidth.Avx512 => "avx512",
        VectorWidth.Avx2 => "avx2",
        _ => "vector128",
    };

    /// <summary>The CPU's model name (from /proc/cpuinfo on Linux), or what the runtime knows of it.</summary>
    public static string CpuModel { get; } = ReadCpuModel();

    /// <summary>The vector extensions the runtime reports for this CPU, widest last (e.g. "sse4.2 avx2 fma avx512f ...").</summary>
    public static string VectorExtensions
    {
        get
        {
            var found = new List<string>();
            void Add(bool supported, string name) { if (supported) found.Add(name); }
            Add(Sse42.IsSupported, "sse4.2");
            Add(Avx.IsSupported, "avx");
            Add(Avx2.IsSupported, "avx2");
            Add(Fma.IsSupported, "fma");
            Add(Avx512F.IsSupported, "avx512f");
            Add(Avx512BW.IsSupported, "avx512bw");
            Add(Avx512DQ.IsSupported, "avx512dq");
            Add(Avx512Vbmi.IsSupported, "avx512vbmi");
            Add(AvxVnni.IsSupported, "avx-vnni");
            Add(AdvSimd.IsSupported, "advsimd");
            Add(AdvSimd.Arm64.IsSupported, "advsimd-arm64");
            return found.Count == 0 ? "none" : string.Join(' ', found);
        }
    }

    private static string ReadCpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var colon and >= 0)
                        return line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} CPU, {Environment.ProcessorCount} logical processors";
    }
}
