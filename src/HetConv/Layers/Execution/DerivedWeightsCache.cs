namespace HetConv.Layers.Execution;

/// <summary>
/// A layer's eval-mode derived weights (<see cref="HetConv2d.DerivedWeights"/>), safe for concurrent calls on one
/// model. A call takes a reference to the cached weights and checks them outside the lock; replacing or dropping
/// them gives back only the cache's reference, so a call still computing with the old ones keeps them alive.
/// Weights are derived under the lock: calls that find none wait for one derivation and share it.
/// </summary>
internal sealed class DerivedWeightsCache
{
    private readonly object gate = new();
    private SharedWeights? current;

    public bool IsEmpty
    {
        get { lock (gate) return current is null; }
    }

    /// <summary>
    /// The cached weights when they are a <typeparamref name="T"/> that <paramref name="isCurrent"/> accepts, else
    /// new ones from <paramref name="derive"/>, which replace them in the cache. The caller owns one reference to
    /// what it gets and disposes it when done.
    /// </summary>
    public T Get<T>(Func<T, bool> isCurrent, Func<T> derive) where T : SharedWeights
    {
        T? seen;
        lock (gate)
        {
            seen = current as T;
            seen?.AddReference();
        }
        if (seen is not null)
        {
            if (isCurrent(seen)) return seen;
            seen.Dispose();
        }
        lock (gate)
        {
            // Another call may have derived them while this one checked.
            if (current is T other && !ReferenceEquals(other, seen) && isCurrent(other))
            {
                other.AddReference();
                return other;
            }
            var fresh = derive();
            fresh.AddReference();   // the cache's
            var old = current;
            current = fresh;
            old?.Dispose();
            return fresh;
        }
    }

    /// <summary>Drops the cached weights; calls still using them keep them until they finish.</summary>
    public void Clear()
    {
        SharedWeights? old;
        lock (gate)
        {
            old = current;
            current = null;
        }
        old?.Dispose();
    }
}
