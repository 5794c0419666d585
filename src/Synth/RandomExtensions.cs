namespace FaceCluster.Synth;

/// <summary>Small sampling helpers over a seeded <see cref="Random"/>.</summary>
internal static class RandomExtensions
{
    public static double Uniform(this Random rng, double min, double max) => min + (max - min) * rng.NextDouble();

    /// <summary>A value in [min, max] with a random sign.</summary>
    public static double SignedUniform(this Random rng, double min, double max) => rng.Uniform(min, max) * (rng.Next(2) == 0 ? -1 : 1);

    public static bool Chance(this Random rng, double probability) => rng.NextDouble() < probability;

    public static T Pick<T>(this Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    /// <summary>Standard normal variate (Box–Muller).</summary>
    public static double Gaussian(this Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public static void ShuffleInPlace<T>(this Random rng, IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
