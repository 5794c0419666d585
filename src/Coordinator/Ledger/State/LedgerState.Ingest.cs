using FaceCluster.Coordinator.Ledger.Store;

namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>Loss reports and identity probes into the ledger's memory (docs/CURATION.md: relative loss, smoothing, area).</summary>
internal sealed partial class LedgerState
{
    private double[] _stepIdentitySum = [];
    private int[] _stepIdentityCount = [];
    private readonly List<int> _touched = new();

    /// <summary>
    /// Records identity-probe losses and latents; samples the ledger does not know, non-finite losses, and latents that
    /// are not finite or not one per sample, are left out.
    /// </summary>
    public void IngestProbe(ProbeReport r, long seq)
    {
        Seq = seq;
        float smoothing = (float)_options.Policy.ProbeSmoothing;
        int n = Math.Min(r.SampleIds.Length, Math.Min(r.OwnLosses.Length, r.OtherLosses.Length));
        for (int k = 0; k < n; k++)
            if (_idMap.TryGet(r.SampleIds[k], out int d) && _probes[d].Record(r.OwnLosses[k], r.OtherLosses[k], r.Cycle, smoothing))
                MarkDirty(d);
        IngestLatents(r);
    }

    /// <summary>Records a probe's latents only (a reopened ledger takes those of the cycle still open at its snapshot).</summary>
    public void IngestLatents(ProbeReport r)
    {
        int width = r.LatentWidth;
        // A width beyond any model's bottleneck (a hostile or broken worker) would have the ledger hold width floats per face.
        if (width <= 0 || width > ProbeLatents.MaxWidth || r.Latents.Length != (long)r.SampleIds.Length * width) return;
        for (int k = 0; k < r.SampleIds.Length; k++)
        {
            var latent = r.Latents.AsSpan(k * width, width);
            if (_idMap.TryGet(r.SampleIds[k], out int d) && AllFinite(latent)) _latents.Record(d, r.Cycle, latent);
        }
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Takes one report: buffers it with its step, finalizing the step when complete, and stale steps.</summary>
    public void Ingest(LossReport r, int worker, long seq)
    {
        Seq = seq;
        RawReports++;
        if (!_steps.TryGetPending(r.Step, out var step))
        {
            if (_steps.TryGetMedian(r.Step, out float median))
            {
                // Its step was finalized without it (stale): compare it with that step's median.
                var late = _steps.Rent(r.Step, r.Cycle, r.ReportsInStep);
                Append(late, r, worker, seq);
                Apply(late, median, complete: false, isLate: true);
                LateReports++;
                _steps.Return(late);
                return;
            }
            step = _steps.Open(r.Step, r.Cycle, r.ReportsInStep);
        }
        Append(step, r, worker, seq);
        if (step.Reports >= step.Expected) Finalize(step);
        if (r.Step > LastStep)
        {
            LastStep = r.Step;
            if (_steps.PendingCount > 0) FinalizeWhere(p => p.Step < LastStep - _options.StaleAfterSteps);
        }
    }

    /// <summary>Finalizes every pending step of cycle <paramref name="cycle"/> or earlier (the cycle is over: they are stale).</summary>
    public void FinalizeUpTo(long cycle) => FinalizeWhere(p => p.Cycle <= cycle);

    private void FinalizeWhere(Func<PendingStep, bool> stale)
    {
        foreach (var p in _steps.Due(stale)) Finalize(p);
    }

    private void Append(PendingStep step, LossReport r, int worker, long seq)
    {
        int n = r.SampleIds.Length;
        int at = step.Count;
        step.Grow(at + n);
        var dense = step.Dense;
        for (int k = 0; k < n; k++)
        {
            int id = r.SampleIds[k];
            if (!_idMap.TryGet(id, out int d)) d = AddSample(id, IdentityIndex(UnregisteredIdentity), "", registered: false);
            dense[at + k] = d;
        }
        r.Losses.AsSpan(0, n).CopyTo(step.Loss.AsSpan(at));
        step.Count = at + n;
        step.Parts.Add((worker, at, n));
        step.Reports++;
        step.LastSeq = seq;
    }

    private void Finalize(PendingStep step)
    {
        float median = _steps.Close(step);
        Apply(step, median, complete: step.Reports >= step.Expected, isLate: false);
        Steps++;
        if (step.Reports < step.Expected) IncompleteSteps++;
        _steps.Return(step);
    }

    /// <summary>Records every finite loss of the step (relative to <paramref name="median"/> when it is usable) and its curve points.</summary>
    private void Apply(PendingStep step, float median, bool complete, bool isLate)
    {
        bool relative = median > 1e-30f && float.IsFinite(median);
        float inv = relative ? 1f / median : 0f;
        float a = _alpha;
        int stepInt = (int)Math.Clamp(step.Step, int.MinValue, int.MaxValue);
        var counters = _counters;
        var dense = step.Dense;
        var loss = step.Loss;
        if (_stepIdentitySum.Length < _identities.Count)
        {
            Array.Resize(ref _stepIdentitySum, Math.Max(16, _identities.Count * 2));
            Array.Resize(ref _stepIdentityCount, Math.Max(16, _identities.Count * 2));
        }
        double sum = 0;
        int finite = 0;
        _touched.Clear();
        for (int k = 0; k < step.Count; k++)
        {
            float l = loss[k];
            if (!float.IsFinite(l)) { NonFinite++; continue; }
            int d = dense[k];
            ref var c = ref counters[d];
            c.Observations++;
            c.LastLoss = l;
            c.EmaLoss = c.Observations == 1 ? l : c.EmaLoss + a * (l - c.EmaLoss);
            c.LastStep = stepInt;
            if (relative)
            {
                float r = l * inv;
                float lr = MathF.Log(MathF.Max(r, 1e-6f));
                if (c.RelObservations == 0) { c.SmoothedLog = lr; c.SmoothedLogSq = lr * lr; }
                else { c.SmoothedLog += a * (lr - c.SmoothedLog); c.SmoothedLogSq += a * (lr * lr - c.SmoothedLogSq); }
                c.RelObservations++;
                c.Auc += r - 1f;
                if (c.EarlyObservations < _earlyObservations) { c.EarlyObservations++; c.EarlySumLog += lr; }
                if (c.CycleObservations == 0) _cycleObserved.Add(d);
                c.CycleObservations++;
                c.CycleSumLog += lr;
                c.CycleSumLoss += l;
            }
            int g = c.Identity;
            _stepIdentitySum[g] += l;
            if (_stepIdentityCount[g]++ == 0) _touched.Add(g);
            MarkDirty(d);
            sum += l;
            finite++;
        }
        Observations += finite;
        foreach (int g in _touched)
        {
            _identityCurves[g].Add(step.Step, _stepIdentitySum[g], _stepIdentityCount[g]);
            _stepIdentitySum[g] = 0;
            _stepIdentityCount[g] = 0;
        }
        foreach (var (worker, offset, count) in step.Parts)
        {
            double ws = 0; int wn = 0;
            foreach (float l in loss.AsSpan(offset, count))
                if (float.IsFinite(l)) { ws += l; wn++; }
            _workerRecords[worker] += wn;
            _workerSumLoss[worker] += ws;
            _workerCurves[worker].Add(step.Step, ws, wn);
        }
        GlobalCurve.Add(step.Step, sum, finite);
        if (finite > 0 && step.Step >= _steps.LastFinalizedStep && !isLate)
        {
            _steps.LastFinalizedStep = step.Step;
            LastGlobalLoss = sum / finite;
        }
        _finalizedSteps.Add(new StepRow(step.Step, step.Cycle, step.Reports, step.Expected, step.Count, median,
            finite > 0 ? (float)(sum / finite) : float.NaN, complete, isLate, step.LastSeq));
    }
}
