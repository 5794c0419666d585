namespace FaceCluster.Common.FaceSet;

/// <summary>
/// A small, fully specified random generator (SplitMix64) for augmentation, so a seed gives the same
/// draws on every .NET version (System.Random's seeded sequence is not guaranteed to stay the same).
/// </summary>
internal struct AugmentRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [-range, +range].</summary>
    public double Symmetric(double range) => range == 0 ? 0 : (NextDouble() * 2 - 1) * range;

    /// <summary>Standard normal (Box-Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Mixes values into one seed (SplitMix64 finaliser over each).</summary>
    public static ulong Mix(ulong a, ulong b, ulong c)
    {
        var r = new AugmentRandom(a);
        ulong h = r.NextUInt64() ^ b;
        r = new AugmentRandom(h);
        h = r.NextUInt64() ^ c;
        r = new AugmentRandom(h);
        return r.NextUInt64();
    }
}
