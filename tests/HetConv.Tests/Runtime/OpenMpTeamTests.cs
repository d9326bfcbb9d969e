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
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(8, 2)]
    [InlineData(5, 1)]
    public void Every_worker_runs_exactly_once_whatever_the_threads_delays(int workers, int seed)
    {
        // Workers sleep for random times, as threads do that other processes deschedule: whichever thread is free
        // takes the next worker, and none runs twice or is left out.
        var delays = new Random(seed).GetItems(new[] { 0, 1, 3, 7 }, workers);
        var seen = new int[workers];
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        OpenMpTeam.Run(workers, worker =>
        {
            Thread.Sleep(delays[worker]);
            Interlocked.Increment(ref seen[worker]);
            threads.TryAdd(Environment.CurrentManagedThreadId, worker);
        });
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.InRange(threads.Count, 1, workers);
    }

    [Theory]
    [InlineData(200, 2, 1)]
    [InlineData(64, 3, 2)]
    [InlineData(2, 2, 3)]
    public void A_held_up_thread_leaves_its_share_to_the_others_and_every_piece_runs_once(int pieces, int workers, int seed)
    {
        // The first thread to take a piece is held up until all the other pieces are done, as if another process
        // had its core; the pieces sleep at random. The other threads must take every other piece meanwhile.
        var random = new Random(seed);
        var delays = Enumerable.Range(0, pieces).Select(_ => random.Next(3) == 0 ? 1 : 0).ToArray();
        var seen = new int[pieces];
        var perThread = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        int heldUp = -1, done = 0;
        using var released = new ManualResetEventSlim();
        OpenMpTeam.ForEachPiece(pieces, workers, piece =>
        {
            int thread = Environment.CurrentManagedThreadId;
            if (Interlocked.CompareExchange(ref heldUp, thread, -1) == -1)
                Assert.True(released.Wait(TimeSpan.FromSeconds(30)), "the other threads never took the held-up thread's share");
            if (delays[piece] > 0) Thread.Sleep(delays[piece]);
            Interlocked.Increment(ref seen[piece]);
            perThread.AddOrUpdate(thread, 1, (_, n) => n + 1);
            if (Interlocked.Increment(ref done) == pieces - 1) released.Set();
        });
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Equal(1, perThread[heldUp]);
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
