namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// Latent outliers, measured for one cycle close from the identity probe's latents (<see cref="CurationSnapshot.Latents"/>):
/// each face's distance from the centre of its identity's other faces in the shared encoder's latent space (every
/// dimension standardized over the probed faces), as ln of that distance ÷ its identity's median distance
/// (<see cref="Excess"/>), and its robust z with one spread pooled over all identities (<see cref="Z"/>).
/// The encoder never memorises a face the way a decoder does: a misaligned, occluded, blank or faceless image stays far
/// from its identity's faces however long it trains, while a hard but good face (side light, a turned head) is near
/// faces of its identity with the same trait, or no farther than the identity's spread. O(faces × width).
/// </summary>
internal sealed class LatentScores
{
    private LatentScores(double[] z, double[] excess) { Z = z; Excess = excess; }

    /// <summary>Per sample of the snapshot (same order): robust z of <see cref="Excess"/>; NaN for a sample not judged.</summary>
    public double[] Z { get; }

    /// <summary>Per sample: ln(distance from its identity's centre ÷ its identity's median distance); NaN for a sample not judged.</summary>
    public double[] Excess { get; }

    /// <summary>The scores, or null when the snapshot has no latents (or fewer than 3 evaluable faces with one).</summary>
    public static LatentScores? Build(CurationSnapshot snapshot, CurationPolicyOptions o)
    {
        int width = snapshot.LatentWidth;
        var samples = snapshot.Samples.Span;
        var latents = snapshot.Latents.Span;
        int n = samples.Length, identities = snapshot.Identities.Length;
        if (width <= 0 || latents.Length < n * width) return null;
        var use = new bool[n];
        int used = 0;
        for (int k = 0; k < n; k++)
        {
            use[k] = CurationPolicy.Evaluable(samples[k], o) && (uint)samples[k].Identity < (uint)identities && float.IsFinite(latents[k * width]);
            if (use[k]) used++;
        }
        if (used < 3) return null;

        // Standardize every dimension over the judged faces, so no one unit of the latent dominates the distance.
        var mean = new double[width];
        var scale = new double[width];
        for (int k = 0; k < n; k++)
            if (use[k])
                for (int j = 0; j < width; j++) mean[j] += latents[k * width + j];
        for (int j = 0; j < width; j++) mean[j] /= used;
        for (int k = 0; k < n; k++)
            if (use[k])
                for (int j = 0; j < width; j++) { double d = latents[k * width + j] - mean[j]; scale[j] += d * d; }
        for (int j = 0; j < width; j++) scale[j] = 1 / Math.Max(Math.Sqrt(scale[j] / used), 1e-6);

        var sum = new double[identities * width];
        var count = new int[identities];
        for (int k = 0; k < n; k++)
        {
            if (!use[k]) continue;
            int g = samples[k].Identity;
            count[g]++;
            for (int j = 0; j < width; j++) sum[g * width + j] += (latents[k * width + j] - mean[j]) * scale[j];
        }
        // Distance from the centre of the identity's other faces (itself left out, so one odd face cannot pull the centre to itself).
        var distance = new double[n];
        Array.Fill(distance, double.NaN);
        for (int k = 0; k < n; k++)
        {
            if (!use[k]) continue;
            int g = samples[k].Identity;
            if (count[g] < 2) continue;
            double d2 = 0;
            for (int j = 0; j < width; j++)
            {
                double x = (latents[k * width + j] - mean[j]) * scale[j];
                double centre = (sum[g * width + j] - x) / (count[g] - 1);
                d2 += (x - centre) * (x - centre);
            }
            distance[k] = Math.Sqrt(d2);
        }
        var byIdentity = new List<double>[identities];
        var all = new List<double>(used);
        for (int k = 0; k < n; k++)
        {
            if (!double.IsFinite(distance[k])) continue;
            all.Add(distance[k]);
            (byIdentity[samples[k].Identity] ??= new List<double>()).Add(distance[k]);
        }
        if (all.Count < 3) return null;
        double global = CurationPolicy.Median(all.ToArray());
        var median = new double[identities];
        for (int g = 0; g < identities; g++)
            median[g] = byIdentity[g] is { } list && list.Count >= o.MinTrajectoryReference ? CurationPolicy.Median(list.ToArray()) : global;
        var excess = new double[n];
        Array.Fill(excess, double.NaN);
        var pooled = new List<double>(all.Count);
        for (int k = 0; k < n; k++)
        {
            if (!double.IsFinite(distance[k])) continue;
            double m = median[samples[k].Identity];
            excess[k] = Math.Log(Math.Max(distance[k], 1e-9) / Math.Max(m, 1e-9));
            pooled.Add(excess[k]);
        }
        var p = pooled.ToArray();
        double centreOfAll = CurationPolicy.Median(p); // reorders p, which the deviations below do not mind
        for (int i = 0; i < p.Length; i++) p[i] = Math.Abs(p[i] - centreOfAll);
        double spread = Math.Max(1.4826 * CurationPolicy.Median(p), o.MinSpread);
        var z = new double[n];
        for (int k = 0; k < n; k++) z[k] = double.IsFinite(excess[k]) ? (excess[k] - centreOfAll) / spread : double.NaN;
        return new LatentScores(z, excess);
    }
}
