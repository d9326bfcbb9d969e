using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace HetConv.Runtime;

/// <summary>
/// Runs a kernel's workers on libtorch's own OpenMP threads (libgomp's GOMP_parallel, found in the process), so
/// that they are the threads that just ran the previous libtorch operation. Workers on .NET threads would have to
/// share the cores with those OpenMP threads while they spin waiting for the next operation (for as long as
/// <see cref="TorchRuntime.SpinCount"/> allows). Work is handed out as threads become free, never fixed to a thread:
/// a thread that another process keeps off its core leaves its share to the others. Where libgomp is not found
/// (another OS, a libtorch built without OpenMP) the workers run on the .NET thread pool.
/// </summary>
public static unsafe class OpenMpTeam
{
    private static readonly delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void> Parallel;

    static OpenMpTeam()
    {
        string? path = LoadedLibGomp();
        if (path is null || !NativeLibrary.TryLoad(path, out var library)) return;
        if (!NativeLibrary.TryGetExport(library, "GOMP_parallel", out var parallel)) return;
        Parallel = (delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void>)parallel;
    }

    /// <summary>Whether work runs on libtorch's OpenMP threads (else on the .NET thread pool).</summary>
    public static bool UsesOpenMp => Parallel != null;

    /// <summary>
    /// Runs <paramref name="work"/>(worker index) for every index below <paramref name="workers"/>, on up to that
    /// many threads (the caller's among them), each index on whichever thread takes it first: what a worker
    /// computes must not depend on the thread, and a worker must not wait for another to start.
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
        public int Next = -1;
        public Exception? Error;
    }

    [UnmanagedCallersOnly]
    private static void Worker(void* data)
    {
        var job = (Job)GCHandle.FromIntPtr((nint)data).Target!;
        // Each thread takes the next worker index not yet taken, until none is left. A thread that the OS has not
        // yet scheduled (another process has its core) then leaves its share to the others instead of holding up the
        // whole team; and where libgomp gives fewer threads than asked (inside another parallel region it gives
        // one) all the workers still run.
        for (int worker = Interlocked.Increment(ref job.Next); worker < job.Workers; worker = Interlocked.Increment(ref job.Next))
        {
            // An exception must not unwind through libgomp's frames: keep it for the caller.
            try { job.Work(worker); }
            catch (Exception e) { Interlocked.CompareExchange(ref job.Error, e, null); }
        }
    }

    /// <summary>The libgomp that libtorch loaded.</summary>
    private static string? LoadedLibGomp()
    {
        if (!OperatingSystem.IsLinux()) return null;
        // libtorch must be loaded first; any TorchSharp call does that.
        _ = TorchSharp.torch.get_num_threads();
        return TorchRuntime.MappedLibGomp();
    }
}
