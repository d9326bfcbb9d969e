using HetConv.Conversion;
using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Tests.Layers.Execution;

/// <summary>
/// Inference from several threads on one model, the way a service shares a model between requests: every result
/// equals, bit for bit, what one thread computes, while the layers' packed-weight caches are emptied and refilled
/// under the threads' feet (at the start of every round, so that all threads find them empty at once, and all the
/// time by one more thread, as after reloading weights).
/// </summary>
public class ConcurrentInferenceTests
{
    private const int Threads = 6;
    private const int Rounds = 8;

    [FusedKernelTheory]
    [InlineData(false)]   // eval mode, packed weights checked against a fingerprint on every call
    [InlineData(true)]    // InferenceFolding: BatchNorms folded, ReLUs and residual additions fused, packed weights trusted
    public void Threads_sharing_a_model_get_one_threads_results(bool folded)
    {
        torch.random.manual_seed(21);
        using var model = ModelZoo.Create("resnet20", ConvOptions.HetConv(4));
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            using var noGrad = no_grad();
            bn.running_mean!.uniform_(-0.5, 0.5);
            bn.running_var!.uniform_(0.5, 2);
        }
        model.eval();
        if (folded) InferenceFolding.Apply(model);
        model.UseExecution(HetConvExecutions.FusedNhwc);
        var layers = model.modules().OfType<HetConv2d>().ToList();

        var inputs = Enumerable.Range(0, Threads).Select(_ => randn(4, 3, 32, 32)).ToArray();
        Tensor[] expected;
        using (no_grad()) expected = inputs.Select(x => model.call(x)).ToArray();

        // Each round starts with every cache empty, so all threads find no packed weights at once.
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var barrier = new Barrier(Threads, _ => layers.ForEach(l => l.InvalidateDerivedWeights()));
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                using var noGrad = no_grad();
                for (int round = 0; round < Rounds; round++)
                {
                    barrier.SignalAndWait();
                    for (int call = 0; call < 2; call++)
                    {
                        using var y = model.call(inputs[t]);
                        if (!y.Equals(expected[t])) failures.Enqueue($"thread {t}, round {round}, call {call}: output differs");
                    }
                }
            }
            catch (Exception e)
            {
                failures.Enqueue($"thread {t}: {e.GetType().Name}: {e.Message}");
                barrier.RemoveParticipant();
            }
        })).ToList();
        bool done = false;
        var invalidator = new Thread(() =>
        {
            while (!Volatile.Read(ref done)) layers.ForEach(l => l.InvalidateDerivedWeights());
        });
        invalidator.Start();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Volatile.Write(ref done, true);
        invalidator.Join();

        Assert.Empty(failures);
        using (no_grad())
            for (int t = 0; t < Threads; t++)
                Assert.True(model.call(inputs[t]).Equals(expected[t]), $"input {t} after the threads");
        Assert.All(layers, l => Assert.False(l.DerivedWeights.IsEmpty, "the fused kernel packed and kept its weights"));
    }

    [Fact]
    public void Weights_dropped_from_the_cache_stay_alive_while_a_call_holds_them()
    {
        var cache = new DerivedWeightsCache();
        var first = cache.Get(_ => true, () => new CountedWeights());
        Assert.Same(first, cache.Get<CountedWeights>(_ => true, () => throw new InvalidOperationException("derived twice")));
        first.Dispose();                                            // the second Get's reference

        cache.Clear();                                              // the cache's reference: one call still holds it
        Assert.Equal(0, first.Frees);
        first.Dispose();                                            // the call's: now freed
        Assert.Equal(1, first.Frees);
        Assert.True(cache.IsEmpty);

        var second = cache.Get(_ => true, () => new CountedWeights());
        var third = cache.Get(w => !ReferenceEquals(w, second), () => new CountedWeights());   // stale: replaced
        Assert.NotSame(second, third);
        Assert.Equal(0, second.Frees);                              // the caller still holds it
        second.Dispose();
        Assert.Equal(1, second.Frees);
        third.Dispose();
        Assert.Equal(0, third.Frees);                               // the cache holds it
        cache.Clear();
        Assert.Equal(1, third.Frees);
        Assert.Throws<ObjectDisposedException>(() => third.Dispose());
    }

    private sealed class CountedWeights : SharedWeights
    {
        public int Frees;
        protected override void Free() => Frees++;
    }
}
