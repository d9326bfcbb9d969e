using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace HetConv.Runtime;

/// <summary>
/// Runs a kernel's workers on libtorch's own OpenMP threads (libgomp's GOMP_parallel, found in the process), so
/// that they are the threads that just ran the previous libtorch operation. Workers on .NET threads would have to
/// share the cores with those OpenMP threads while they spin waiting for the next operation: libgomp's default
/// spin lasts long enough to halve a kernel that follows a libtorch operation, and shortening it for everyone
/// (GOMP_SPINCOUNT) costs libtorch's own operations 15-20%. Where libgomp is not found (another OS, a libtorch
/// built without OpenMP) the workers run on the .NET thread pool.
/// </summary>
public static unsafe class OpenMpTeam
{
    private static readonly delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void> Parallel;
    private static readonly delegate* unmanaged<int> ThreadNumber;
    private static readonly delegate* unmanaged<int> TeamSize;

    static OpenMpTeam()
    {
        string? path = LoadedLibGomp();
        if (path is null || !NativeLibrary.TryLoad(path, out var library)) return;
        if (!NativeLibrary.TryGetExport(library, "GOMP_parallel", out var parallel)
            || !NativeLibrary.TryGetExport(library, "omp_get_thread_num", out var threadNumber)
            || !NativeLibrary.TryGetExport(library, "omp_get_num_threads", out var teamSize))
            return;
        Parallel = (delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void>)parallel;
        ThreadNumber = (delegate* unmanaged<int>)threadNumber;
        TeamSize = (delegate* unmanaged<int>)teamSize;
    }

    /// <summary>Whether work runs on libtorch's OpenMP threads (else on the .NET thread pool).</summary>
    public static bool UsesOpenMp => Parallel != null;

    /// <summary>
    /// Runs <paramref name="work"/>(worker index) for every index below <paramref name="workers"/>, on that many
    /// threads at once when libgomp gives them (the caller's among them).
    /// </summary>
    public static void Run(int workers, Action<int> work)
    {
        if (workers <= 1) { work(0); return; }
        if (!UsesOpenMp)
        {
            System.Threading.Tasks.Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, work);
            return;
        }
        var job = new Job(work, workers);
        var handle = GCHandle.Alloc(job);
        try
        {
            Parallel(&Worker, (void*)GCHandle.ToIntPtr(handle), (uint)workers, 0);
        }
        finally
        {
            handle.Free();
        }
        if (job.Error is not null) ExceptionDispatchInfo.Throw(job.Error);
    }

    /// <summary>
    /// Runs <paramref name="work"/>(piece) for every piece below <paramref name="pieces"/> on up to
    /// <paramref name="workers"/> threads, each taking the next piece as it becomes free: a thread slowed by other
    /// load takes fewer. What a piece computes must not depend on which thread runs it.
    /// </summary>
    public static void ForEachPiece(int pieces, int workers, Action<int> work)
    {
        int next = -1;
        Run(Math.Clamp(workers, 1, Math.Max(1, pieces)), _ =>
        {
            for (int piece = Interlocked.Increment(ref next); piece < pieces; piece = Interlocked.Increment(ref next))
                work(piece);
        });
    }

    /// <summary>
    /// <see cref="ForEachPiece"/>, with each thread claiming its next piece before it runs the current one:
    /// <paramref name="work"/>(piece, next) knows what that thread will run next (-1 for nothing) and can fetch its
    /// data into cache meanwhile. A thread holds at most one claimed piece besides the one it runs.
    /// </summary>
    public static void ForEachPieceLookingAhead(int pieces, int workers, Action<int, int> work)
    {
        int next = -1;
        Run(Math.Clamp(workers, 1, Math.Max(1, pieces)), _ =>
        {
            int piece = Interlocked.Increment(ref next);
            while (piece < pieces)
            {
                int upcoming = Interlocked.Increment(ref next);
                work(piece, upcoming < pieces ? upcoming : -1);
                piece = upcoming;
            }
        });
    }

    private sealed class Job(Action<int> work, int workers)
    {
        public readonly Action<int> Work = work;
        public readonly int Workers = workers;
        public Exception? Error;
    }

    [UnmanagedCallersOnly]
    private static void Worker(void* data)
    {
        var job = (Job)GCHandle.FromIntPtr((nint)data).Target!;
        // libgomp may give fewer threads than asked (inside another parallel region it gives one): each thread
        // then takes every team-size-th worker, so all of them run.
        int team = TeamSize();
        for (int worker = ThreadNumber(); worker < job.Workers; worker += team)
        {
            // An exception must not unwind through libgomp's frames: keep it for the caller.
            try { job.Work(worker); }
            catch (Exception e) { Interlocked.CompareExchange(ref job.Error, e, null); }
        }
    }

    /// <summary>The libgomp that libtorch loaded (its packages ship it under a hashed name), from /proc/self/maps.</summary>
    private static string? LoadedLibGomp()
    {
        const string maps = "/proc/self/maps";
        if (!OperatingSystem.IsLinux() || !File.Exists(maps)) return null;
        // libtorch must be loaded first; any TorchSharp call does that.
        _ = TorchSharp.torch.get_num_threads();
        foreach (string line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            string path = line[slash..];
            if (Path.GetFileName(path).StartsWith("libgomp", StringComparison.Ordinal)) return path;
        }
        return null;
    }
}
