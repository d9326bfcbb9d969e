namespace HetConv.Data;

/// <summary>
/// xoshiro256** (Blackman and Vigna): a small, fast generator whose whole state is four numbers, so a run can
/// save it in a checkpoint and continue the same sequence after a resume (System.Random's state is not exposed).
/// </summary>
public sealed class SeededRandom
{
    private ulong s0, s1, s2, s3;

    public SeededRandom(long seed)
    {
        // SplitMix64 spreads the seed over the state, as the authors recommend.
        ulong x = (ulong)seed;
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    private SeededRandom(ulong[] state) => (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3]);

    /// <summary>The generator's state, to continue with <see cref="FromState"/>.</summary>
    public ulong[] State => new[] { s0, s1, s2, s3 };

    public static SeededRandom FromState(ulong[] state) =>
        state is { Length: 4 } && state.Any(s => s != 0)
            ? new SeededRandom(state)
            : throw new ArgumentException("a xoshiro256** state is four numbers, not all zero.", nameof(state));

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, bound), without modulo bias (Lemire's method).</summary>
    public int Next(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        ulong threshold = (ulong)(-(long)bound) % (ulong)bound;
        while (true)
        {
            ulong high = Math.BigMul(NextUInt64(), (ulong)bound, out ulong low);
            if (low >= threshold) return (int)high;
        }
    }

    /// <summary>Uniform in [0, 1), from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Fisher-Yates shuffle.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
