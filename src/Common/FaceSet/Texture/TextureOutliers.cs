using FaceCluster.Common.Statistics;

namespace FaceCluster.Common.FaceSet.Texture;

/// <summary>
/// How far each face's <see cref="TextureDescriptor"/> stands from its identity's other faces: the χ² distance to the
/// mean descriptor of the identity's other faces, as a ratio to the identity's median such distance (the median over
/// the whole set for an identity with fewer than <c>minReference</c> faces), and the robust z of the ratio's log over
/// the set (median and 1.4826 × median absolute deviation, one spread pooled over every identity, so an identity of 8
/// faces is judged on the scale of the whole set). A face alone in its identity, or a set whose log ratios do not
/// spread, gets no score.
/// </summary>
public static class TextureOutliers
{
    /// <summary>One face: its id, its identity and its descriptor.</summary>
    public readonly record struct Face(int Id, int Identity, float[] Descriptor);

    /// <summary>A face's score: the robust z and the ratio to its identity's median distance.</summary>
    public readonly record struct Score(double Z, double Ratio);

    public static IReadOnlyDictionary<int, Score> Scores(IReadOnlyList<Face> faces, int minReference = 4)
    {
        ArgumentNullException.ThrowIfNull(faces);
        var distance = new Dictionary<int, (int Identity, double Distance)>();
        foreach (var group in faces.GroupBy(f => f.Identity))
        {
            var members = group.ToList();
            if (members.Count < 2) continue;
            int length = members[0].Descriptor.Length;
            var sum = new double[length];
            foreach (var f in members)
            {
                if (f.Descriptor.Length != length) throw new ArgumentException($"face {f.Id}: a descriptor of {f.Descriptor.Length} values where its identity's have {length}");
                for (int i = 0; i < length; i++) sum[i] += f.Descriptor[i];
            }
            var others = new float[length];
            foreach (var f in members)
            {
                for (int i = 0; i < length; i++) others[i] = (float)((sum[i] - f.Descriptor[i]) / (members.Count - 1));
                distance[f.Id] = (group.Key, Math.Max(TextureDescriptor.ChiSquare(f.Descriptor, others), 1e-12));
            }
        }
        if (distance.Count == 0) return new Dictionary<int, Score>();
        double all = Medians.Of(distance.Values.Select(v => v.Distance).ToArray().AsSpan());
        var reference = distance.Values.GroupBy(v => v.Identity)
            .ToDictionary(g => g.Key, g => g.Count() >= minReference ? Medians.Of(g.Select(v => v.Distance).ToArray().AsSpan()) : all);
        var logRatio = distance.ToDictionary(p => p.Key, p => Math.Log(p.Value.Distance / reference[p.Value.Identity]));
        double centre = Medians.Of(logRatio.Values.ToArray().AsSpan());
        double spread = 1.4826 * Medians.Of(logRatio.Values.Select(v => Math.Abs(v - centre)).ToArray().AsSpan());
        if (!(spread > 0)) return new Dictionary<int, Score>();
        return logRatio.ToDictionary(p => p.Key, p => new Score((p.Value - centre) / spread, Math.Exp(p.Value)));
    }
}
