namespace HetConv.Layers.Execution;

/// <summary>
/// Weights in native memory that several holders share: the calls that compute with them and the layer's cache
/// they came from (see <see cref="DerivedWeightsCache"/>). Each holder owns one reference and gives it back with
/// <see cref="Dispose"/>; the memory is freed with the last one, so a call on one thread keeps its weights alive
/// while another thread drops or replaces them in the cache.
/// </summary>
internal abstract class SharedWeights : IDisposable
{
    private int references = 1;   // the creator's

    /// <summary>Takes another reference; only while the caller holds one, or under the lock of a cache that does.</summary>
    public void AddReference()
    {
        if (Interlocked.Increment(ref references) <= 1)
            throw new ObjectDisposedException(GetType().Name, "a reference was taken to weights already freed");
    }

    /// <summary>Gives back one reference; the last frees the memory.</summary>
    public void Dispose()
    {
        int left = Interlocked.Decrement(ref references);
        if (left == 0) Free();
        else if (left < 0) throw new ObjectDisposedException(GetType().Name, "weights were given back more often than taken");
    }

    protected abstract void Free();
}
