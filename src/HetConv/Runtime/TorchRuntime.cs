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

    /// <summary>
    /// How long libgomp's threads spin at a barrier or between parallel regions before they sleep, in its
    /// GOMP_SPINCOUNT units, unless the user sets OMP_WAIT_POLICY or GOMP_SPINCOUNT. See <see cref="Initialize"/>.
    /// </summary>
    public const long SpinCount = 3_000;

    /// <summary>The spin count libgomp was given at start-up (null: the user's own setting, or libgomp was already loaded).</summary>
    public static long? SpinCountSet { get; private set; }

    /// <summary>Call before the first use of libtorch.</summary>
    /// <remarks>
    /// Two settings keep a shared machine from costing more than the cores it takes away. libgomp reads its spin
    /// count once, when libtorch loads it, so it is set here, before. Its default spins for milliseconds at every
    /// barrier and after every parallel region: on a quiet machine that keeps the threads ready for the next
    /// operation, but when another process takes a core, the thread left waiting spins through the very time slice
    /// the thread it waits for needs. The spin set here is long enough to cover the gaps between one operation and the
    /// next of a training step, and short enough that a thread whose partner is descheduled soon sleeps. And
    /// libtorch's thread count defaults to the machine's cores; here it is cut to the CPUs this process may use
    /// (<see cref="CpuBudget"/>), unless the user set OMP_NUM_THREADS or MKL_NUM_THREADS.
    /// </remarks>
    public static void Initialize()
    {
        if (Interlocked.Exchange(ref initialized, 1) == 1) return;
        MallocTuned = TuneGlibcMalloc();
        SpinCountSet = SetSpinCount();
        if (!ThreadsFromEnvironment)
        {
            int cpus = CpuBudget.Current.Cpus;
            if (TorchSharp.torch.get_num_threads() > cpus) TorchSharp.torch.set_num_threads(cpus);
        }
    }

    /// <summary>Whether the user chose libtorch's thread count through OMP_NUM_THREADS or MKL_NUM_THREADS.</summary>
    public static bool ThreadsFromEnvironment => IsSet("OMP_NUM_THREADS") || IsSet("MKL_NUM_THREADS");

    private static bool IsSet(string name) => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name));

    // The process environment libgomp reads is the C library's: .NET's Environment.SetEnvironmentVariable does
    // not reach it, setenv does.
    private static long? SetSpinCount()
    {
        if (!OperatingSystem.IsLinux() || IsSet("OMP_WAIT_POLICY") || IsSet("GOMP_SPINCOUNT") || LibGompLoaded()) return null;
        try
        {
            return setenv("GOMP_SPINCOUNT", SpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture), 0) == 0 ? SpinCount : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static bool LibGompLoaded() => MappedLibGomp() is not null;

    /// <summary>
    /// The path of the libgomp mapped into this process, if any, from /proc/self/maps (libtorch's packages ship it
    /// under a hashed name).
    /// </summary>
    internal static string? MappedLibGomp()
    {
        const string maps = "/proc/self/maps";
        if (!OperatingSystem.IsLinux() || !File.Exists(maps)) return null;
        foreach (string line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            string path = line[slash..];
            if (Path.GetFileName(path).StartsWith("libgomp", StringComparison.Ordinal)) return path;
        }
        return null;
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

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
