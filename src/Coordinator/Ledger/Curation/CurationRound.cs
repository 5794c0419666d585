using FaceCluster.Coordinator.Ledger.State;

namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// One run of the policy at a cycle close, live or replayed: the policy's input built from the ledger's memory
/// (the registered, not quarantined samples seen in the open cycle, and the counts the caps need), and its decision.
/// Its buffers are reused from cycle to cycle.
/// </summary>
internal sealed class CurationRound
{
    private CurationSample[] _samples = [];
    private int[] _slotOfObserved = [];
    private CurationOutcome[] _outcomes = [];
    private float[] _latents = [];

    /// <summary>
    /// Runs the policy for the open cycle of <paramref name="state"/>. <see cref="SlotOf"/> then maps each position
    /// in <see cref="LedgerState.CycleObserved"/> to its outcome's index, -1 for a sample the policy did not see.
    /// </summary>
    public CurationDecision Decide(LedgerState state, long cycle, long step, CurationPolicyOptions options)
    {
        // Latents only where the policy judges them and a probe came at the end of this cycle (else every row would be NaN).
        bool latents = options.DetectLatent && state.Latents.LastCycle == cycle;
        var snapshot = Snapshot(state, cycle, step, options.EarlyObservations, latents);
        if (_outcomes.Length < snapshot.Samples.Length) _outcomes = new CurationOutcome[snapshot.Samples.Length + snapshot.Samples.Length / 4];
        return CurationPolicy.Decide(snapshot, options, _outcomes);
    }

    public int SlotOf(int observedPosition) => _slotOfObserved[observedPosition];

    private CurationSnapshot Snapshot(LedgerState s, long cycle, long step, int _earlyObservations, bool withLatents)
    {
        var observed = s.CycleObserved;
        if (_samples.Length < observed.Count) _samples = new CurationSample[Math.Max(observed.Count, _samples.Length * 2)];
        if (_slotOfObserved.Length < observed.Count) _slotOfObserved = new int[Math.Max(observed.Count, _slotOfObserved.Length * 2)];
        var registered = s.Registered;
        var status = s.Status;
        var counters = s.Counters;
        int width = withLatents ? s.Latents.Width : 0;
        if (_latents.Length < observed.Count * width) _latents = new float[Math.Max(observed.Count * width, _latents.Length * 2)];
        bool anyLatent = false;
        int n = 0;
        for (int k = 0; k < observed.Count; k++)
        {
            int d = observed[k];
            if (!registered[d] || status[d] == SampleStatus.Quarantined) { _slotOfObserved[k] = -1; continue; }
            ref readonly var c = ref counters[d];
            ref readonly var p = ref s.Probes[d];
            _slotOfObserved[k] = n;
            if (width > 0)
            {
                var latent = s.Latents.Of(d, cycle);
                var row = _latents.AsSpan(n * width, width);
                if (latent.Length == width) { latent.CopyTo(row); anyLatent = true; }
                else row.Fill(float.NaN);
            }
            var texture = s.Texture(d);
            _samples[n++] = new CurationSample(d, c.Identity, status[d], c.CycleObservations, c.CycleSumLog / c.CycleObservations,
                c.RelObservations, c.SmoothedLog, c.SmoothedSpread, s.Policy[d])
            {
                Probes = p.Probes, IdentityMargin = p.SmoothedMargin, ProbeOutlierBits = p.OutlierBits,
                MeanLog = c.RelObservations > 0 ? (float)Math.Log(Math.Max(1 + c.Auc / c.RelObservations, 1e-6)) : float.NaN,
                EarlyLog = c.EarlyObservations > 0 && c.EarlyObservations * 2 >= _earlyObservations ? c.EarlySumLog / c.EarlyObservations : float.NaN,
                NoFace = s.NoFace(d),
                TextureZ = texture.Z, TextureRatio = texture.Ratio,
                ProbeMargin = p.LastCycle == cycle ? p.LastMargin : float.NaN,
            };
        }
        int identities = s.Identities.Count;
        var samples = new int[identities];
        var quarantined = new int[identities];
        var awaiting = new int[identities];
        int total = 0;
        for (int d = 0; d < s.Count; d++)
        {
            if (!registered[d]) continue;
            int g = counters[d].Identity;
            samples[g]++;
            total++;
            if (status[d] == SampleStatus.Quarantined) quarantined[g]++;
            else if (status[d] == SampleStatus.AwaitingReview) awaiting[g]++;
        }
        var counts = new IdentityCounts[identities];
        for (int g = 0; g < identities; g++)
            counts[g] = new IdentityCounts(samples[g], samples[g] - quarantined[g] - awaiting[g], quarantined[g], awaiting[g]);
        return new CurationSnapshot(cycle, step, _samples.AsMemory(0, n), counts, total, quarantined.Sum(), awaiting.Sum())
        {
            Latents = anyLatent ? _latents.AsMemory(0, n * width) : ReadOnlyMemory<float>.Empty, LatentWidth = anyLatent ? width : 0,
        };
    }
}
