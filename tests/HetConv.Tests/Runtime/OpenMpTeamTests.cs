using HetConv.Runtime;

namespace HetConv.Tests.Runtime;

public class OpenMpTeamTests
{
    [Fact]
    public void Libtorchs_own_OpenMP_is_found_on_Linux()
    {
        // libtorch-cpu for Linux ships its own libgomp; without it the kernels would fall back to .NET threads.
        if (OperatingSystem.IsLinux()) Assert.True(OpenMpTeam.UsesOpenMp);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(7, 2)]
    [InlineData(7, 1)]
    public void Every_piece_runs_exactly_once(int pieces, int workers)
    {
        var seen = new int[pieces];
        OpenMpTeam.ForEachPiece(pieces, workers, piece => Interlocked.Increment(ref seen[piece]));
        Assert.All(seen, count => Assert.Equal(1, count));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_worker_runs_once_on_a_thread_of_its_own(int workers)
    {
        var seen = new int[workers];
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        OpenMpTeam.Run(workers, worker =>
        {
            Interlocked.Increment(ref seen[worker]);
            threads[Environment.CurrentManagedThreadId] = worker;
        });
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Equal(workers, threads.Count);
    }

    [Fact]
    public void A_workers_exception_reaches_the_caller_after_the_others_finish()
    {
        int finished = 0;
        var error = Assert.Throws<InvalidOperationException>(() => OpenMpTeam.Run(2, worker =>
        {
            if (worker == 1) throw new InvalidOperationException("worker 1 failed");
            Thread.Sleep(20);
            Interlocked.Increment(ref finished);
        }));
        Assert.Equal("worker 1 failed", error.Message);
        Assert.Equal(1, finished);
    }

    [Fact]
    public void Inside_another_team_every_worker_still_runs()
    {
        var inner = new System.Collections.Concurrent.ConcurrentBag<(int outer, int inner)>();
        OpenMpTeam.Run(2, outer => OpenMpTeam.Run(3, worker => inner.Add((outer, worker))));
        Assert.Equal(6, inner.Count);
        Assert.Equal(6, inner.Distinct().Count());
    }
}
