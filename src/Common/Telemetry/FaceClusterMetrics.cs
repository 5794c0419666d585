using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace FaceCluster.Common.Telemetry;

/// <summary>
/// The OpenTelemetry meter "FaceCluster" (scraped from the coordinator's GET /metrics). The coordinator records
/// into it as steps complete and cycles close; the instruments are process-wide.
/// </summary>
public static class FaceClusterMetrics
{
    public const string MeterName = "FaceCluster";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Steps = Meter.CreateCounter<long>("facecluster_steps_total", description: "Training steps applied (counted once per step, by the ring's first member).");
    private static readonly InstrumentAdvice<double> SecondsBuckets = new() { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] };
    private static readonly Histogram<double> AllReduce = Meter.CreateHistogram("facecluster_allreduce_seconds", "s", "Time a worker spent in the ring all-reduce of one step.", tags: null, advice: SecondsBuckets);
    private static readonly Histogram<double> DataWait = Meter.CreateHistogram("facecluster_data_wait_seconds", "s", "Time a worker waited for its next batch.", tags: null, advice: SecondsBuckets);
    private static readonly Counter<long> Samples = Meter.CreateCounter<long>("facecluster_samples_total",
        description: "Samples trained, by worker (Prometheus' rate() of it is the throughput; facecluster_samples_per_second is the latest step's alone).");
    private static readonly Counter<long> Dropped = Meter.CreateCounter<long>("facecluster_messages_dropped_total",
        description: "Control-plane messages dropped because their sender is not who they claim to be (by message type).");
    private static readonly ConcurrentDictionary<string, double> WorkerRates = new(StringComparer.Ordinal);
    private static double _loss = double.NaN;
    private static long _ledgerPaused, _ledgerHeld;
    private static readonly ConcurrentDictionary<string, double> Validations = new(StringComparer.Ordinal);
    private static long _quarantined;

    static FaceClusterMetrics()
    {
        Meter.CreateObservableGauge("facecluster_samples_per_second", ObserveRates, description: "Samples per second of each worker over its latest step.");
        Meter.CreateObservableGauge("facecluster_loss", () => Volatile.Read(ref _loss) is var l && double.IsFinite(l) ? [new Measurement<double>(l)] : Array.Empty<Measurement<double>>(),
            description: "Smoothed mean per-sample training loss.");
        Meter.CreateObservableGauge("facecluster_validation_loss", () => Observe("validation/loss"),
            description: "The autoencoder's mean reconstruction loss on the validation split, at the newest checkpoint.");
        Meter.CreateObservableGauge("facecluster_validation_accuracy_ratio", () => Observe("validation/accuracy"),
            description: "The triplet model's 10-fold verification accuracy on the validation split (0..1), at the newest checkpoint.");
        Meter.CreateObservableGauge("facecluster_validation_good_bad_accuracy_ratio", () => Observe("validation/good-bad-accuracy"),
            description: "The quality model's good/bad accuracy on the validation split (0..1), at the newest checkpoint.");
        Meter.CreateObservableGauge("facecluster_ledger_writes_paused", () => Interlocked.Read(ref _ledgerPaused),
            description: "1 while the ledger cannot write to ledger.db (a full disk): records are held in memory; 0 otherwise.");
        Meter.CreateObservableGauge("facecluster_ledger_unflushed_records", () => Interlocked.Read(ref _ledgerHeld),
            description: "Loss records accepted by the ledger but not yet in ledger.db.");
        Meter.CreateObservableGauge("facecluster_quarantined", () => Interlocked.Read(ref _quarantined), description: "Samples currently quarantined (left out of training).");
    }

    /// <summary>One worker's report of one step: <paramref name="samples"/> samples in the given times (milliseconds).</summary>
    /// <param name="countsStep">True for exactly one report per step (the first ring member's), so steps_total counts steps.</param>
    public static void StepCompleted(string workerId, int samples, double computeMs, double dataWaitMs, double allReduceMs, bool countsStep)
    {
        var tag = new KeyValuePair<string, object?>("worker", workerId);
        if (countsStep) Steps.Add(1);
        if (samples > 0) Samples.Add(samples, tag);
        if (allReduceMs >= 0) AllReduce.Record(allReduceMs / 1000.0, tag);
        if (dataWaitMs >= 0) DataWait.Record(dataWaitMs / 1000.0, tag);
        double total = computeMs + dataWaitMs + allReduceMs;
        if (total > 0 && samples > 0) WorkerRates[workerId] = samples / (total / 1000.0);
    }

    /// <summary>The smoothed mean loss the coordinator tracks.</summary>
    public static void Loss(double meanLoss) => Volatile.Write(ref _loss, meanLoss);

    /// <summary>How many samples are quarantined after a cycle closed.</summary>
    public static void Quarantined(long count) => Interlocked.Exchange(ref _quarantined, count);

    /// <summary>A checkpoint's validation figure ("validation/loss" or "validation/accuracy").</summary>
    public static void Validation(string name, double value) => Validations[name] = value;

    private static IEnumerable<Measurement<double>> Observe(string validation) =>
        Validations.TryGetValue(validation, out double v) && double.IsFinite(v) ? [new Measurement<double>(v)] : [];

    /// <summary>The ledger's writes: paused or not, and the records not yet written.</summary>
    public static void LedgerWrites(bool paused, long unflushed)
    {
        Interlocked.Exchange(ref _ledgerPaused, paused ? 1 : 0);
        Interlocked.Exchange(ref _ledgerHeld, unflushed);
    }

    /// <summary>A control-plane message was dropped: its sender is not the member it claims to be.</summary>
    public static void MessageDropped(string messageType) => Dropped.Add(1, new KeyValuePair<string, object?>("type", messageType));

    /// <summary>A worker left the run: its rate is no longer reported.</summary>
    public static void WorkerGone(string workerId) => WorkerRates.TryRemove(workerId, out _);

    private static IEnumerable<Measurement<double>> ObserveRates()
    {
        foreach (var (id, rate) in WorkerRates)
            yield return new Measurement<double>(rate, new KeyValuePair<string, object?>("worker", id));
    }
}
