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

    /// <summary>Call before the first use of libtorch.</summary>
    /// <remarks>
    /// libtorch's OpenMP threads keep libgomp's default spinning: the HetConv kernels run on those same threads
    /// (<see cref="OpenMpTeam"/>) instead of competing with them for the cores.
    /// </remarks>
    public static void Initialize()
    {
        if (Interlocked.Exchange(ref initialized, 1) == 1) return;
        MallocTuned = TuneGlibcMalloc();
    }

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
