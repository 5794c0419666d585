namespace FaceCluster.Synth;

/// <summary>
/// Derives independent seeds for <see cref="Random"/> from the user's seed and a path of integers
/// (stream, identity, image), with SplitMix64 mixing. Unlike <see cref="HashCode"/> it is the same in
/// every process, so the output never depends on the process or on thread scheduling.
/// </summary>
internal static class SynthSeeds
{
    public const int IdentityStream = 1;
    public const int PlanStream = 2;
    public const int ImageStream = 3;
    public const int HoldoutStream = 4;

    public static int Derive(int seed, params ReadOnlySpan<int> path)
    {
        ulong state = Mix(0x5EED_FACE_C1u ^ (ulong)(uint)seed);
        foreach (int part in path)
            state = Mix(state ^ (0x9E3779B97F4A7C15ul * ((ulong)(uint)part + 1)));
        return (int)(state >> 33); // 31 bits: a non-negative int
    }

    public static Random Create(int seed, params ReadOnlySpan<int> path) => new(Derive(seed, path));

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15ul;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
        return z ^ (z >> 31);
    }
}
