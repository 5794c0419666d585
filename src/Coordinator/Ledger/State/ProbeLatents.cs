namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>
/// The encoder's latent vector of each sample from its newest identity probe, and that probe's cycle: what the policy
/// needs to judge latent outliers at the probe's cycle close. Held in memory only (the probes table keeps every probe's
/// latents, and a reopened ledger takes those of the cycle still open from there). A probe of another width (another
/// model) starts over.
/// </summary>
internal sealed class ProbeLatents
{
    private float[] _values = [];
    private int[] _cycle = [];

    /// <summary>The widest latent taken (the presets' bottlenecks are 128 to 1,024 floats); wider ones are left out.</summary>
    public const int MaxWidth = 8192;

    /// <summary>Floats per sample (0 before any probe with latents).</summary>
    public int Width { get; private set; }

    /// <summary>The cycle of the newest probe with latents (-1 before any).</summary>
    public long LastCycle { get; private set; } = -1;

    /// <summary>Records the latent of the sample with dense index <paramref name="dense"/> from a probe at the end of <paramref name="cycle"/>.</summary>
    public void Record(int dense, long cycle, ReadOnlySpan<float> latent)
    {
        if (latent.Length == 0) return;
        if (latent.Length != Width)
        {
            Width = latent.Length;
            _values = [];
            _cycle = [];
            LastCycle = -1;
        }
        if (dense >= _cycle.Length)
        {
            int size = Math.Max(dense + 1, Math.Max(256, _cycle.Length * 2));
            int old = _cycle.Length;
            Array.Resize(ref _cycle, size);
            _cycle.AsSpan(old).Fill(-1);
            Array.Resize(ref _values, size * Width);
        }
        latent.CopyTo(_values.AsSpan(dense * Width, Width));
        _cycle[dense] = (int)Math.Min(cycle, int.MaxValue);
        LastCycle = Math.Max(LastCycle, cycle);
    }

    /// <summary>The sample's latent when its newest probe came at the end of <paramref name="cycle"/>; empty otherwise.</summary>
    public ReadOnlySpan<float> Of(int dense, long cycle) =>
        dense < _cycle.Length && _cycle[dense] == cycle ? _values.AsSpan(dense * Width, Width) : ReadOnlySpan<float>.Empty;
}
