
namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// Every threshold of <see cref="CurationPolicy"/>. The moving-average and probe defaults were set on loss traces of the
/// demo's kind of run (generated faces, the tiny 32 px autoencoder, global batch 32, cycles of 40 steps); the trajectory
/// and face-prior defaults on the committed real sets (tests/data: CMU faces, LFWcrop) and the generated one together,
/// under the demo's budget (docs/CURATION.md, `bench curation --real`). See each property for what it does.
/// </summary>
public sealed record CurationPolicyOptions
{
    /// <summary>auto: prunes take effect; review: would-be prunes wait for a person; off: statistics only.</summary>
    public CurationMode Mode { get; init; } = CurationMode.Auto;

    /// <summary>
    /// No sample is evaluated (flagged, re-fed or pruned) before this many steps. Early in training every loss is
    /// high and hard-but-good faces (side light, extreme pose) stand out most; they fall back among their peers
    /// once the model has learned the common case.
    /// </summary>
    public long WarmupSteps { get; init; } = 800;

    /// <summary>Decisions are taken every this many cycles (outliers are recorded every cycle).</summary>
    public int PeriodCycles { get; init; } = 1;

    /// <summary>
    /// Weight of a new observation in the per-sample smoothed statistics (exponential moving averages of the log
    /// relative loss and of its square): 0.04 remembers about the last 25 observations. Applied by the ledger at
    /// every observation, so a re-fed sample (seen more often) updates faster.
    /// </summary>
    public double ObservationSmoothing { get; init; } = 0.04;

    /// <summary>A sample is evaluated only after this many observations with a relative loss.</summary>
    public int MinObservations { get; init; } = 8;

    /// <summary>
    /// An identity is its samples' own reference only with at least this many evaluated samples in the cycle;
    /// smaller identities (and large face sets, where an identity is seen a few times a cycle) are compared with
    /// every sample of the cycle.
    /// </summary>
    public int MinReferenceSamples { get; init; } = 12;

    /// <summary>Floor of the robust spread (1.4826 · MAD, in log units), so a very uniform identity does not turn small differences into large z.</summary>
    public double MinSpread { get; init; } = 0.05;

    /// <summary>High outlier: the robust z of its smoothed log relative loss against its identity is at least this…</summary>
    public double OutlierZ { get; init; } = 3.0;

    /// <summary>…and its smoothed relative loss is at least this many times its identity's median (low outliers: at most 1/this).</summary>
    public double MinOutlierRatio { get; init; } = 1.25;

    /// <summary>
    /// A face is pruned for its training loss alone (a persistent high outlier that stays high while re-fed, or relapses)
    /// only when its loss is at least this many times its identity's median; milder ones are kept and watched (Flagged).
    /// On the demo's runs, once the bad faces are gone the tail of good-but-atypical faces sits at ×1.5–1.65 with the L1
    /// loss and at ×1.70–1.78 with the SSIM term, and a z threshold alone prunes them one by one over the remaining
    /// cycles; bad faces that train badly sit at ×1.8–3.7 (milder bad crops are left to the identity probe).
    /// </summary>
    public double MinPruneRatio { get; init; } = 1.8;

    /// <summary>Low outliers: samples far easier than their peers (blank or flat images are reconstructed almost perfectly).</summary>
    public bool DetectLow { get; init; } = true;

    /// <summary>Low outlier: the robust z is at most minus this…</summary>
    public double LowOutlierZ { get; init; } = 4.0;

    /// <summary>
    /// …and its loss is at most this many times its identity's median. Blank and flat images sit far below (×0.3–0.6);
    /// a good face's moving average only drifts to about ×0.8 by chance, which z alone can call an outlier once the
    /// identity's spread has narrowed late in a run.
    /// </summary>
    public double MaxLowOutlierRatio { get; init; } = 0.67;

    /// <summary>Erratic outliers: samples whose relative loss swings far more than their peers' from one observation to the next.</summary>
    public bool DetectErratic { get; init; } = true;

    /// <summary>Erratic outlier: the robust z of the log of its relative-loss spread is at least this…</summary>
    public double ErraticZ { get; init; } = 6.0;

    /// <summary>…and its spread is at least this many times its identity's median spread.</summary>
    public double MinErraticRatio { get; init; } = 1.5;

    /// <summary>
    /// Trajectory outliers: faces whose mean relative loss over every observation since they were first seen (see
    /// <see cref="CurationSample.MeanLog"/>) stands far above their identity's. With few images per identity the decoders
    /// memorise every face, bad ones too, and the moving average forgets; the mean over the whole trajectory does not.
    /// Judged against the identity's median (or, for an identity with fewer than <see cref="MinTrajectoryReference"/>
    /// evaluable faces, the median of all) and a spread pooled over all identities, from the second evaluation on, and
    /// pruned without re-feeding (re-feeding is what makes a memorised face look learned).
    /// </summary>
    public bool DetectTrajectory { get; init; } = true;

    /// <summary>Trajectory outlier: the robust z of its mean log relative loss against its identity (pooled spread) is at least this…</summary>
    public double TrajectoryZ { get; init; } = 4.5;

    /// <summary>…and that mean is at least this many times its identity's median.</summary>
    public double MinTrajectoryRatio { get; init; } = 1.28;

    /// <summary>An identity is its faces' trajectory reference with at least this many evaluable faces; smaller ones use the median of all.</summary>
    public int MinTrajectoryReference { get; init; } = 4;

    /// <summary>
    /// The face prior: when the run starts, OpenCV's Haar cascades (Debian's opencv-data) look for a face in every
    /// training image (RUNDIR/face-check.json). A face with no face where its set's faces are (none found, or one far off
    /// the set's typical place or size) that also trained badly from its first observations is pruned. Neither alone
    /// condemns a face: turned heads are often not found, and hard faces train badly at first. Without the cascades the
    /// run goes without this prior and says so. Off by default (`--face-prior` turns it on): on the committed sets it
    /// found misaligned faces on LFWcrop's tight crops, but on the generated set it also pruned strongly side-lit hard
    /// faces, which the cascades miss and which train badly at first, and a default must not help one set and hurt another.
    /// </summary>
    public bool FaceCheck { get; init; }

    /// <summary>
    /// The texture prior: when the run starts, every training image's light-normalised local-texture histograms (Tan and
    /// Triggs' normalisation, then the LBPH face recogniser's uniform local binary patterns on a 6×6 grid) are compared
    /// with its identity's other faces (<see cref="FaceCluster.Common.FaceSet.Texture.TextureOutliers"/>). A face whose
    /// distance is at least <see cref="TextureZ"/> robust z above the set's is pruned at the first judged cycle, without
    /// re-feeding: no model is involved, so memorising the face cannot hide it. On by default: on the committed real sets
    /// and the generated one it finds most misaligned, faceless and blank images (and other-person ones where the crops
    /// are loose or generated), and no good face of any of them reached the default z, chosen on the three together
    /// (docs/CURATION.md). `--no-texture-prior` turns it off.
    /// </summary>
    public bool DetectTexture { get; init; } = true;

    /// <summary>A face is a texture outlier at this robust z of its distance from its identity's other faces, or above.</summary>
    public double TextureZ { get; init; } = 4.0;

    /// <summary>How many first observations of a face make its early statistic (<see cref="CurationSample.EarlyLog"/>).</summary>
    public int EarlyObservations { get; init; } = 20;

    /// <summary>A face with no face found (see <see cref="FaceCheck"/>) is pruned when the robust z of its early statistic against its identity (pooled spread) is at least this…</summary>
    public double NoFaceEarlyZ { get; init; } = 2.5;

    /// <summary>…and that early mean is at least this many times its identity's median.</summary>
    public double MinNoFaceEarlyRatio { get; init; } = 1.1;

    /// <summary>
    /// Identity probe: at the end of every this-many-th cycle the workers pass every active face, without augmentation,
    /// through the shared encoder and every identity's decoder (models that have a probe: the autoencoder). 0 disables it.
    /// It costs about one encoder and one decoder pass per identity for each face, so it runs every few cycles.
    /// </summary>
    public int ProbeEveryCycles { get; init; } = 4;

    /// <summary>The first probe comes at half the warm-up, so that faces have a few probes when judging starts.</summary>
    public long ProbeFromStep => WarmupSteps / 2;

    /// <summary>Weight of a new probe in a face's smoothed identity margin, as queries show it (0.5: the last two or three probes count).</summary>
    public double ProbeSmoothing { get; init; } = 0.5;

    /// <summary>
    /// Identity outliers: faces that do not look like their identity to the model. The identity margin of a face is
    /// ln(loss through its own identity's decoder ÷ the lowest loss through another identity's decoder): strongly negative
    /// for a good face (its own decoder knows it), near zero for a face of another person, a bad crop, an occluded face or
    /// something that is not a face. Each probe is judged on its own (the model changes between probes): an outlier when the
    /// robust z of the probe's margin against its identity's margins in the same probe is at least this…
    /// </summary>
    public double IdentityOutlierZ { get; init; } = 3.0;

    /// <summary>…and its own decoder's advantage is at least this many times smaller than its identity's median advantage.</summary>
    public double MinIdentityOutlierRatio { get; init; } = 1.25;

    /// <summary>
    /// Latent outliers: at every identity probe the workers also report each face's latent vector from the shared encoder
    /// (<see cref="LatentScores"/>). A face whose distance from the centre of its identity's other faces there stands far
    /// above its identity's median distance counts as an outlier of that probe, as an identity outlier does (and with it
    /// toward <see cref="IdentityPersistenceHits"/>), and is pruned without re-feeding. Unlike the losses, the latent does not
    /// fade as the decoders memorise a face. Off by default (`--latent-outliers` turns it on): on the committed real sets
    /// it finds misaligned, blank and faceless images the losses miss, but on the generated set the strongly side-lit hard
    /// faces stand as far from their identity's faces as the bad ones (docs/CURATION.md), and a default must not help one
    /// set and hurt another.
    /// </summary>
    public bool DetectLatent { get; init; }

    /// <summary>Latent outlier: the robust z of its log distance ratio (one spread pooled over all identities) is at least this…</summary>
    public double LatentZ { get; init; } = 2.5;

    /// <summary>…and its distance from its identity's centre is at least this many times its identity's median distance.</summary>
    public double MinLatentRatio { get; init; } = 1.25;

    /// <summary>Chance: an identity outlier in at least this many…</summary>
    public int IdentityPersistenceHits { get; init; } = 2;

    /// <summary>…of its last this many probes (at most 16) is pruned (never re-fed: oversampling cannot make a face another person's).</summary>
    public int IdentityPersistenceProbes { get; init; } = 2;

    /// <summary>Persistence: an outlier in at least this many…</summary>
    public int PersistenceHits { get; init; } = 3;

    /// <summary>…of its last this many evaluations (at most 32) is acted on; fewer only flags it.</summary>
    public int PersistenceWindow { get; init; } = 4;

    /// <summary>Oversampling weight of a re-fed sample: drawn about this many times per epoch. 1 (or less) disables re-feeding: persistent high outliers are pruned directly.</summary>
    public double RefeedWeight { get; init; } = 3.0;

    /// <summary>Evaluated cycles in a re-feed window; at its end the sample is judged learned (normal again), learning (still high but falling), or bad.</summary>
    public int RefeedCycles { get; init; } = 3;

    /// <summary>Learning: the excess over its identity's median (in log units) fell by at least this fraction over the window.</summary>
    public double LearnFraction { get; init; } = 0.3;

    /// <summary>Normal again: its robust z is below this.</summary>
    public double ClearZ { get; init; } = 2.0;

    /// <summary>At most this many re-fed cycles in total; a sample still an outlier then is bad.</summary>
    public int MaxRefeedCycles { get; init; } = 12;

    /// <summary>
    /// A sample that became normal only while re-fed and is a persistent high outlier again within this many cycles
    /// was memorised, not learned (as misaligned, occluded or mislabelled faces are): it is pruned, not re-fed again.
    /// </summary>
    public int RelapseCycles { get; init; } = 20;

    /// <summary>At most this fraction of the face set is pruned (or sent to review) in one cycle (at least one sample).</summary>
    public double MaxPruneFractionPerCycle { get; init; } = 0.02;

    /// <summary>At most this fraction of the face set, and of each identity (rounded up), is quarantined or awaiting review in total.</summary>
    public double MaxPruneFraction { get; init; } = 0.10;

    /// <summary>A prune never leaves an identity with fewer samples in training than this.</summary>
    public int MinImagesPerIdentity { get; init; } = 3;

    public static CurationPolicyOptions Default { get; } = new();

    /// <summary>Throws a <see cref="FaceClusterException"/> (usage error) naming the option and the value.</summary>
    public void Validate()
    {
        Check(WarmupSteps >= 0, "warm-up steps", WarmupSteps, ">= 0");
        Check(PeriodCycles >= 1, "period cycles", PeriodCycles, ">= 1");
        Check(ObservationSmoothing is > 0 and <= 1, "observation smoothing", ObservationSmoothing, "in (0, 1]");
        Check(MinObservations >= 1, "min observations", MinObservations, ">= 1");
        Check(MinReferenceSamples >= 3, "min reference samples", MinReferenceSamples, ">= 3");
        Check(MinSpread > 0 && double.IsFinite(MinSpread), "min spread", MinSpread, "> 0");
        Check(OutlierZ > 0 && double.IsFinite(OutlierZ), "outlier z", OutlierZ, "> 0");
        Check(MinOutlierRatio >= 1 && double.IsFinite(MinOutlierRatio), "min outlier ratio", MinOutlierRatio, ">= 1");
        Check(MinPruneRatio >= MinOutlierRatio && double.IsFinite(MinPruneRatio), "min prune ratio", MinPruneRatio, $">= {MinOutlierRatio.ToString(CultureInfo.InvariantCulture)} (the min outlier ratio)");
        Check(LowOutlierZ > 0 && double.IsFinite(LowOutlierZ), "low outlier z", LowOutlierZ, "> 0");
        Check(MaxLowOutlierRatio is > 0 and <= 1, "max low outlier ratio", MaxLowOutlierRatio, "in (0, 1]");
        Check(ErraticZ > 0 && double.IsFinite(ErraticZ), "erratic z", ErraticZ, "> 0");
        Check(MinErraticRatio >= 1 && double.IsFinite(MinErraticRatio), "min erratic ratio", MinErraticRatio, ">= 1");
        Check(TrajectoryZ > 0 && double.IsFinite(TrajectoryZ), "trajectory z", TrajectoryZ, "> 0");
        Check(MinTrajectoryRatio >= 1 && double.IsFinite(MinTrajectoryRatio), "min trajectory ratio", MinTrajectoryRatio, ">= 1");
        Check(MinTrajectoryReference >= 2, "min trajectory reference", MinTrajectoryReference, ">= 2");
        Check(EarlyObservations >= 2, "early observations", EarlyObservations, ">= 2");
        Check(TextureZ > 0 && double.IsFinite(TextureZ), "texture z", TextureZ, "> 0");
        Check(NoFaceEarlyZ > 0 && double.IsFinite(NoFaceEarlyZ), "no-face early z", NoFaceEarlyZ, "> 0");
        Check(MinNoFaceEarlyRatio >= 1 && double.IsFinite(MinNoFaceEarlyRatio), "min no-face early ratio", MinNoFaceEarlyRatio, ">= 1");
        Check(LatentZ > 0 && double.IsFinite(LatentZ), "latent z", LatentZ, "> 0");
        Check(MinLatentRatio >= 1 && double.IsFinite(MinLatentRatio), "min latent ratio", MinLatentRatio, ">= 1");
        Check(ProbeEveryCycles >= 0, "probe every cycles", ProbeEveryCycles, ">= 0 (0 disables the identity probe)");
        Check(ProbeSmoothing is > 0 and <= 1, "probe smoothing", ProbeSmoothing, "in (0, 1]");
        Check(IdentityPersistenceProbes is >= 1 and <= ProbeBits.Window, "identity persistence probes", IdentityPersistenceProbes, $"in 1..{ProbeBits.Window}");
        Check(IdentityPersistenceHits >= 1 && IdentityPersistenceHits <= IdentityPersistenceProbes, "identity persistence hits", IdentityPersistenceHits,
            $"in 1..{IdentityPersistenceProbes} (the identity persistence probes)");
        Check(IdentityOutlierZ > 0 && double.IsFinite(IdentityOutlierZ), "identity outlier z", IdentityOutlierZ, "> 0");
        Check(MinIdentityOutlierRatio >= 1 && double.IsFinite(MinIdentityOutlierRatio), "min identity outlier ratio", MinIdentityOutlierRatio, ">= 1");
        Check(PersistenceWindow is >= 1 and <= 32, "persistence window", PersistenceWindow, "in 1..32");
        Check(PersistenceHits >= 1 && PersistenceHits <= PersistenceWindow, "persistence hits", PersistenceHits, $"in 1..{PersistenceWindow} (the persistence window)");
        Check(RefeedWeight is >= 0 and <= 100, "re-feed weight", RefeedWeight, "in 0..100");
        Check(RefeedCycles >= 1, "re-feed cycles", RefeedCycles, ">= 1");
        Check(LearnFraction is > 0 and < 1, "learn fraction", LearnFraction, "in (0, 1)");
        Check(ClearZ > 0 && ClearZ <= OutlierZ, "clear z", ClearZ, $"in (0, {OutlierZ.ToString(CultureInfo.InvariantCulture)}] (the outlier z)");
        Check(MaxRefeedCycles >= RefeedCycles, "max re-feed cycles", MaxRefeedCycles, $">= {RefeedCycles} (the re-feed cycles)");
        Check(RelapseCycles >= 0, "relapse cycles", RelapseCycles, ">= 0");
        Check(MaxPruneFractionPerCycle is >= 0 and <= 1, "max prune fraction per cycle", MaxPruneFractionPerCycle, "in [0, 1]");
        Check(MaxPruneFraction is >= 0 and <= 1, "max prune fraction", MaxPruneFraction, "in [0, 1]");
        Check(MinImagesPerIdentity >= 0, "min images per identity", MinImagesPerIdentity, ">= 0");
    }

    private static void Check(bool ok, string name, object value, string expected)
    {
        if (!ok)
            throw new FaceClusterException(
                string.Create(CultureInfo.InvariantCulture, $"curation policy: {name} {value} is invalid: it must be {expected}"), ExitCodes.UsageError);
    }
}
