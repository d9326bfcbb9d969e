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
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(9, 2)]
    [InlineData(9, 3)]
    [InlineData(5, 1)]
    public void Looking_ahead_every_piece_runs_once_and_the_next_one_named_is_the_threads_next(int pieces, int workers)
    {
        var seen = new int[pieces];
        var runs = new System.Collections.Concurrent.ConcurrentDictionary<int, List<(int piece, int next)>>();
        OpenMpTeam.ForEachPieceLookingAhead(pieces, workers, (piece, next) =>
        {
            Interlocked.Increment(ref seen[piece]);
            runs.GetOrAdd(Environment.CurrentManagedThreadId, _ => new()).Add((piece, next));
            Thread.Sleep(1);
        });
        Assert.All(seen, count => Assert.Equal(1, count));
        foreach (var thread in runs.Values)
        {
            for (int i = 0; i + 1 < thread.Count; i++) Assert.Equal(thread[i + 1].piece, thread[i].next);
            Assert.Equal(-1, thread[^1].next);
        }
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
