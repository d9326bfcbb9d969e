using HetConv.Layers;
using HetConv.Layers.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Layers.Execution;

public class AutoExecutionTests
{
    /// <summary>Each way of calling the layer that can change the choice is timed on its own.</summary>
    [Fact]
    public void Auto_keys_its_choice_on_everything_that_changes_the_call()
    {
        var auto = new AutoExecution();
        using var layer = new HetConv2d(16, 16, 3, 4) { Execution = auto };
        layer.eval();
        using var x = randn(1, 16, 8, 8);
        using var residual = randn(1, 16, 8, 8);
        using var noGrad = no_grad();
        layer.call(x);
        layer.call(x);
        Assert.Single(auto.Choices);
        layer.ReluOutput = true;                              // ReLU applied as the output is stored
        layer.call(x);
        Assert.Equal(2, auto.Choices.Count);
        layer.ReluOutput = false;
        layer.ForwardAddRelu(x, residual);                    // the residual block's fused addition
        Assert.Equal(3, auto.Choices.Count);
        layer.ForwardAddRelu(x, residual.ToChannelsLast());   // the residual's layout
        Assert.Equal(4, auto.Choices.Count);
        layer.call(x.ToChannelsLast());                      // the input's layout
        Assert.Equal(5, auto.Choices.Count);
        layer.TrustDerivedWeights = true;                     // packed once instead of checked every call
        layer.call(x);
        Assert.Equal(6, auto.Choices.Count);
        layer.train();                                        // packs every call, even without autograd
        layer.call(x);
        Assert.Equal(7, auto.Choices.Count);
        layer.eval();
        layer.TrustDerivedWeights = false;
        layer.call(x);                                        // the first key again: nothing new
        Assert.Equal(7, auto.Choices.Count);
    }

    [Fact]
    public void Auto_times_the_method_it_is_asked_for()
    {
        var preferred = new CountingStrategy("preferred");
        var other = new CountingStrategy("other");
        var auto = new AutoExecution(new[] { preferred, other }, capacity: 8);
        using var layer = new HetConv2d(4, 4, 3, 2) { Execution = auto };
        using var x = randn(1, 4, 5, 5);
        using var noGrad = no_grad();
        layer.ForwardAddRelu(x, zeros(1, 4, 5, 5));
        Assert.Equal(0, other.Forwards);
        Assert.True(other.AddRelus > 1, "the fused addition was timed");
        layer.ReluOutput = true;
        layer.call(x);
        Assert.Equal(0, other.Forwards);
        Assert.True(other.Relus > 1, "the fused ReLU was timed");
        Assert.Equal(new[] { AutoCall.ForwardAddRelu, AutoCall.ForwardRelu }.Order(), auto.Choices.Keys.Select(k => k.Call).Order());
    }

    [Fact]
    public void Auto_keeps_at_most_its_capacity_dropping_the_least_recently_used()
    {
        var preferred = new CountingStrategy("preferred");
        var auto = new AutoExecution(new[] { preferred, new CountingStrategy("other") }, capacity: 3);
        using var layer = new HetConv2d(4, 4, 3, 2) { Execution = auto };
        using var noGrad = no_grad();
        Tensor Input(int size) => zeros(1, 4, size, size);
        string Key(int size) => $"[1,4,{size},{size}]";
        foreach (int size in new[] { 3, 4, 5, 3, 6 }) layer.call(Input(size));   // 3 used again before 6 comes

        var kept = auto.Choices.Keys.Select(k => k.Input).ToList();
        Assert.Equal(3, kept.Count);
        Assert.Contains(kept, k => k.StartsWith(Key(3)));
        Assert.Contains(kept, k => k.StartsWith(Key(5)));
        Assert.Contains(kept, k => k.StartsWith(Key(6)));

        int timedBefore = preferred.Forwards;
        layer.call(Input(4));                                  // dropped, so timed again
        Assert.True(preferred.Forwards > timedBefore + 1);
        kept = auto.Choices.Keys.Select(k => k.Input).ToList();
        Assert.DoesNotContain(kept, k => k.StartsWith(Key(5)));   // the least recently used by then
        Assert.Contains(kept, k => k.StartsWith(Key(3)));
        Assert.Throws<ArgumentException>(() => new AutoExecution(0));
    }

    [Fact]
    public void Concurrent_first_calls_time_each_key_once()
    {
        const int threads = 8;
        // Calls of the second strategy made by timings: all of them, less the calls chosen to run on it.
        int TimingCalls(int callsPerKey, Action<HetConv2d> calls)
        {
            var second = new CountingStrategy("second", delayMs: 1);
            var auto = new AutoExecution(new IHetConvExecution[] { new CountingStrategy("first"), second }, capacity: 8);
            using var layer = new HetConv2d(4, 4, 3, 2) { Execution = auto };
            calls(layer);
            Assert.Equal(2, auto.Choices.Count);
            return second.Forwards - callsPerKey * auto.Choices.Values.Count(c => ReferenceEquals(c, second));
        }
        Tensor Input(int t) => zeros(1, 4, 6 + t % 2, 6 + t % 2);   // two keys

        int once = TimingCalls(1, layer =>
        {
            using var g = no_grad();
            layer.call(Input(0));
            layer.call(Input(1));
        });
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        int concurrently = TimingCalls(threads / 2, layer =>
        {
            using var barrier = new Barrier(threads);
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                try
                {
                    using var g = no_grad();
                    barrier.SignalAndWait();
                    layer.call(Input(t));
                }
                catch (Exception e) { failures.Enqueue(e); }
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
        });
        Assert.Empty(failures);
        Assert.True(once > 2, "each key was timed");
        Assert.Equal(once, concurrently);
    }

    /// <summary>Computes as two-branch does and counts its calls; optionally slower than any other.</summary>
    private sealed class CountingStrategy(string name, int delayMs = 0) : IHetConvExecution
    {
        private int forwards, relus, addRelus;
        public string Name => name;
        public int Forwards => forwards;
        public int Relus => relus;
        public int AddRelus => addRelus;

        public Tensor Forward(HetConv2d layer, Tensor input)
        {
            Interlocked.Increment(ref forwards);
            if (delayMs > 0) Thread.Sleep(delayMs);
            return HetConvExecutions.TwoBranch.Forward(layer, input);
        }

        public Tensor ForwardRelu(HetConv2d layer, Tensor input)
        {
            Interlocked.Increment(ref relus);
            return HetConvExecutions.TwoBranch.ForwardRelu(layer, input);
        }

        public Tensor ForwardAddRelu(HetConv2d layer, Tensor input, Tensor residual)
        {
            Interlocked.Increment(ref addRelus);
            return HetConvExecutions.TwoBranch.ForwardAddRelu(layer, input, residual);
        }
    }
}
