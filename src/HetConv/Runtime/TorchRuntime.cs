using System.Runtime.InteropServices;

namespace HetConv.Runtime;

/// <summary>
/// Process-wide start-up settings for libtorch. Every entry point (command line, tests, benchmarks)
/// calls <see cref="Initialize"/> once before it allocates tensors.
/// </summary>
public static partial class TorchRuntime
{
    private static int initialized;

    // glibc mallopt parameters (malloc.h).
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_TOP_PAD = -2;
    private const int M_MMAP_THRESHOLD = -3;

    /// <summary>True when the malloc settings below were applied (glibc only).</summary>
    public static bool MallocTuned { get; private set; }

    /// <summary>How long libtorch's idle OpenMP threads spin before they sleep (GOMP_SPINCOUNT), unless set already.</summary>
    public const string OpenMpSpinCount = "1000";

    /// <summary>Call before the first use of libtorch: the OpenMP setting is read when libtorch is loaded.</summary>
    public static void Initialize()
    {
        if (Interlocked.Exchange(ref initialized, 1) == 1) return;
        ShortenOpenMpSpinning();
        MallocTuned = TuneGlibcMalloc();
    }

    // libtorch's OpenMP (libgomp) threads spin for about 300,000 iterations after every parallel operation before
    // they sleep. The HetConv kernels run on .NET threads between libtorch operations, and spinning OpenMP threads
    // take a core from them: measured here, VGG-16 with HetConv at batch 64 took 210 ms per forward pass with the
    // default and 148 ms with a spin count of 1000, while the standard VGG-16 stayed within noise (283-322 ms).
    // .NET's Environment.SetEnvironmentVariable does not reach the native environment on Linux, so setenv it is.
    private static void ShortenOpenMpSpinning()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            setenv("GOMP_SPINCOUNT", OpenMpSpinCount, overwrite: 0);   // a user's own setting wins
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc: nothing to set
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    // glibc's defaults serve libtorch's large activation buffers with mmap and give them back to the OS
    // on free, so every forward pass faults the same pages in again (up to 3x slower at batch 64).
    // Keeping buffers up to 32 MiB on the heap and never trimming it makes the allocations reusable.
    private static bool TuneGlibcMalloc()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1
                && mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1
                && mallopt(M_TOP_PAD, 256 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (e.g. musl): nothing to tune
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
