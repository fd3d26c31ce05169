namespace FunctionalAD;

/// <summary>
/// A seedable random number generator (xoshiro256** seeded through SplitMix64). The same seed gives the same
/// numbers on every machine and .NET version, unlike System.Random. Not thread-safe: give each thread its own,
/// or split one with <see cref="Split"/>.
/// </summary>
public sealed class Generator
{
    ulong s0, s1, s2, s3;
    double? spareNormal;

    /// <summary>A generator whose sequence is fixed by <paramref name="seed"/>.</summary>
    public Generator(ulong seed)
    {
        ulong x = seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextNormal()
    {
        if (spareNormal is { } s) { spareNormal = null; return s; }
        double u1;
        do u1 = NextDouble(); while (u1 <= 0);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2 * Math.Log(u1));
        spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Uniform integer in [low, high).</summary>
    /// <exception cref="ArgumentException">high &lt;= low.</exception>
    public long NextInt64(long low, long high)
    {
        if (high <= low) throw new ArgumentException($"randint: high ({high}) must be greater than low ({low})");
        ulong range = (ulong)(high - low);
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong v;
        do v = NextUInt64(); while (v >= limit);
        return low + (long)(v % range);
    }

    /// <summary>A new independent generator derived from this one (advances this one).</summary>
    public Generator Split() => new(NextUInt64());

    /// <summary>The generator's whole state (the four xoshiro words and the cached second normal), so a checkpoint
    /// can save it and <see cref="FromState"/> continue the exact same sequence.</summary>
    public GeneratorState State => new(s0, s1, s2, s3, spareNormal);

    /// <summary>A generator that continues from a saved <see cref="State"/>.</summary>
    /// <exception cref="ArgumentException">all four words are zero (not a state xoshiro256** can reach).</exception>
    public static Generator FromState(GeneratorState state)
    {
        if ((state.S0 | state.S1 | state.S2 | state.S3) == 0)
            throw new ArgumentException("Generator.FromState: an all-zero state is not a valid xoshiro256** state");
        var g = new Generator(0);
        (g.s0, g.s1, g.s2, g.s3, g.spareNormal) = (state.S0, state.S1, state.S2, state.S3, state.SpareNormal);
        return g;
    }
}

/// <summary>The state of a <see cref="Generator"/>: xoshiro256**'s four words and the cached second value of
/// Box–Muller (null when none is cached).</summary>
/// <param name="S0">First state word.</param>
/// <param name="S1">Second state word.</param>
/// <param name="S2">Third state word.</param>
/// <param name="S3">Fourth state word.</param>
/// <param name="SpareNormal">The normal sample <see cref="Generator.NextNormal"/> returns next without drawing, if any.</param>
public readonly record struct GeneratorState(ulong S0, ulong S1, ulong S2, ulong S3, double? SpareNormal);
