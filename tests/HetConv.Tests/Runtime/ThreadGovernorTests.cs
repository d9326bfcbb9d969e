using HetConv.Runtime;
using static HetConv.Runtime.ThreadGovernor;

namespace HetConv.Tests.Runtime;

public class ThreadGovernorTests
{
    [Theory]
    // threads, most, run ms, waited ms -> threads
    [InlineData(2, 2, 1000, 0, 2)] // quiet machine
    [InlineData(2, 2, 1000, 500, 2)] // one core taken by another process: waiting half as long as running
    [InlineData(2, 2, 1000, 8000, 1)] // many other threads: one thread instead
    [InlineData(4, 4, 1000, 1500, 1)]
    [InlineData(1, 2, 1000, 500, 1)] // a lone thread still waiting: stays alone
    [InlineData(1, 2, 1000, 100, 2)] // a lone thread hardly waiting: the partners come back
    [InlineData(1, 1, 1000, 0, 1)] // never above the most
    [InlineData(2, 2, 0, 0, 2)] // nothing ran: no change
    [InlineData(1, 2, 1000, -5, 1)] // a thread ended and took its times along: no change
    public void Decides_from_the_share_of_time_the_threads_waited_for_a_cpu(int threads, int most, long runMs, long waitMs, int expected) =>
        Assert.Equal(expected, Decide(threads, most, new SchedStat(runMs * 1_000_000, waitMs * 1_000_000)));

    [Fact]
    public void Sums_every_threads_schedstat_and_skips_the_unreadable()
    {
        using var dir = new TempDirectory();
        Write(dir, "101", "5000 300 12\n");
        Write(dir, "102", "7000 700 3\n");
        Write(dir, "103", "garbage\n");
        Directory.CreateDirectory(dir.File("104")); // a thread that ended as it was read: no file

        Assert.Equal(new SchedStat(12000, 1000), Read(dir.Path));
    }

    [SchedStatFact]
    public void This_process_threads_report_their_running_time()
    {
        var before = Read("/proc/self/task");
        var end = DateTime.UtcNow.AddMilliseconds(50);
        while (DateTime.UtcNow < end) { } // run a little
        Assert.True(Read("/proc/self/task").RunNs > before.RunNs);
    }

    [Fact]
    public void Crowded_it_drops_to_one_thread_freed_it_returns_and_disposing_restores_the_count()
    {
        using var dir = new TempDirectory();
        var set = new List<int>();
        Write(dir, "1", "1000000000 0 1\n");
        var governor = new ThreadGovernor(2, set.Add, dir.Path, TimeSpan.Zero);

        Write(dir, "1", "2000000000 3000000000 2\n"); // waited 3 s while it ran 1 s
        governor.Step();
        Assert.Equal(1, governor.Threads);
        Assert.Equal([1], set);

        Write(dir, "1", "3000000000 3100000000 3\n"); // then waited 0.1 s in 1 s
        governor.Step();
        Assert.Equal(2, governor.Threads);
        Assert.Equal([1, 2], set);

        Write(dir, "1", "4000000000 7100000000 4\n");
        governor.Step();
        governor.Dispose();
        Assert.Equal(2, governor.Threads);
        Assert.Equal([1, 2, 1, 2], set);
    }

    [Fact]
    public void A_process_that_waited_longer_than_it_ran_before_training_starts_with_one_thread()
    {
        using var dir = new TempDirectory();
        var set = new List<int>();
        Write(dir, "1", "1000000000 2500000000 40\n");
        var governor = new ThreadGovernor(2, set.Add, dir.Path, TimeSpan.FromHours(1));
        Assert.Equal(1, governor.Threads);
        Assert.Equal([1], set);
    }

    private sealed class SchedStatFactAttribute : FactAttribute
    {
        public SchedStatFactAttribute()
        {
            if (!Available) Skip = "needs Linux's per-thread scheduler statistics (/proc/self/task/*/schedstat)";
        }
    }

    private static void Write(TempDirectory dir, string task, string text)
    {
        Directory.CreateDirectory(dir.File(task));
        File.WriteAllText(Path.Combine(dir.File(task), "schedstat"), text);
    }
}
