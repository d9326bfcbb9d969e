using System.Diagnostics;
using System.Globalization;

namespace HetConv.Runtime;

/// <summary>
/// Chooses libtorch's thread count as a long job runs, from how long this process's threads wait for a CPU. Every
/// parallel operation ends when its slowest thread does: when other processes' threads outnumber the cores, each of
/// ours waits its turn behind them, and an operation waits for all of ours in turn, hundreds of times a training
/// step (two threads then ran an epoch more than 15 times slower than one). The kernel reports, per thread, the time
/// it ran and the time it waited runnable (/proc/PID/task/TID/schedstat); when our threads wait longer than
/// <see cref="CrowdedRatio"/> times they run, one thread is faster, and when a lone thread hardly waits
/// (<see cref="FreeRatio"/>), the others are brought back. One core taken by another process makes our threads wait
/// about half as long as they run: they keep their number, and share the work out as they become free.
/// </summary>
/// <remarks>
/// A run whose thread count changes sums some values in another order, so a governed run is not repeatable bit for
/// bit, nor is its resume exact: the governor is therefore asked for (<see cref="EnvironmentVariable"/> = 1), never
/// the default. Disposing the governor restores the count it started from.
/// </remarks>
public sealed class ThreadGovernor : IDisposable
{
    /// <summary>Wait over run time above which one thread runs instead of several.</summary>
    public const double CrowdedRatio = 1.0;

    /// <summary>Wait over run time below which a lone thread gets its partners back.</summary>
    public const double FreeRatio = 0.2;


    private readonly string taskDirectory;
    private readonly TimeSpan interval;
    private readonly int most;
    private readonly Action<int> setThreads;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private SchedStat last;

    /// <param name="most">the thread count to start from and return to (libtorch's, bounded by <see cref="CpuBudget"/>).</param>
    /// <param name="setThreads">applies a thread count (libtorch's set_num_threads).</param>
    /// <param name="taskDirectory">/proc/self/task, or a fixture.</param>
    /// <param name="interval">the least time between two looks (default 1 s: long enough to average over many steps' operations).</param>
    public ThreadGovernor(int most, Action<int> setThreads, string taskDirectory = "/proc/self/task", TimeSpan? interval = null)
    {
        this.interval = interval ?? TimeSpan.FromSeconds(1);
        this.most = most;
        this.setThreads = setThreads;
        this.taskDirectory = taskDirectory;
        Threads = most;
        // The first look covers the process's life so far (loading data, building the model): a job that starts
        // on a crowded machine starts with one thread, before its first operations' barriers wait on the others.
        last = default;
        Look();
    }

    /// <summary>Restores the thread count the governor started from.</summary>
    public void Dispose()
    {
        if (Threads != most) setThreads(most);
        Threads = most;
    }

    /// <summary>The thread count chosen last.</summary>
    public int Threads { get; private set; }

    /// <summary>Whether the kernel reports the threads' waiting times here (Linux with scheduler statistics).</summary>
    public static bool Available => OperatingSystem.IsLinux() && File.Exists("/proc/self/schedstat");

    /// <summary>Set to 1 to let training without a fixed thread count follow the load (see the remarks).</summary>
    public const string EnvironmentVariable = "HETCONV_ADAPT_THREADS";

    /// <summary>Whether the user asked for the governor.</summary>
    public static bool Requested => Environment.GetEnvironmentVariable(EnvironmentVariable) == "1";

    /// <summary>Call between steps: at most once an interval it reads the threads' times and may change the count.</summary>
    public void Step()
    {
        if (clock.Elapsed < interval) return;
        Look();
    }

    private void Look()
    {
        clock.Restart();
        var now = Read(taskDirectory);
        int next = Decide(Threads, most, now - last);
        last = now;
        if (next != Threads)
        {
            setThreads(next);
            Threads = next;
        }
    }

    /// <summary>The rule: from <paramref name="current"/> threads, given what they ran and waited since the last look.</summary>
    public static int Decide(int current, int most, SchedStat since)
    {
        // Nothing ran, or a thread that ended took its times with it: nothing learnt.
        if (since.RunNs <= 0 || since.WaitNs < 0) return current;
        double ratio = (double)since.WaitNs / since.RunNs;
        if (current > 1 && ratio > CrowdedRatio) return 1;
        if (current < most && ratio < FreeRatio) return most;
        return current;
    }

    /// <summary>Time run and time waited runnable, in nanoseconds, summed over the threads in a task directory.</summary>
    public readonly record struct SchedStat(long RunNs, long WaitNs)
    {
        public static SchedStat operator -(SchedStat a, SchedStat b) => new(a.RunNs - b.RunNs, a.WaitNs - b.WaitNs);
    }

    /// <summary>Sums the first two fields of every thread's schedstat ("run-ns wait-ns slices").</summary>
    public static SchedStat Read(string taskDirectory)
    {
        long run = 0, wait = 0;
        if (!Directory.Exists(taskDirectory)) return default;
        foreach (string task in Directory.EnumerateDirectories(taskDirectory))
        {
            string text;
            try { text = File.ReadAllText(Path.Combine(task, "schedstat")); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // a thread that just ended
            string[] fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length < 2
                || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long r)
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long w))
                continue;
            run += r;
            wait += w;
        }
        return new SchedStat(run, wait);
    }
}
