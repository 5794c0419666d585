namespace FaceCluster.Common.FaceSet.FaceCheck;

/// <summary>
/// Which images lack a face where their set's faces are: no face found at all, or a frontal face whose centre is more
/// than <see cref="MaxCentreOffset"/> of the image away from the set's median centre, or whose width is outside
/// [<see cref="MinWidthRatio"/>, <see cref="MaxWidthRatio"/>] × the set's median width (a shifted, badly cropped or
/// zoomed face). The set's typical box is the median over every image where a frontal face was found.
/// </summary>
public static class FaceCheckJudge
{
    public const double MaxCentreOffset = 0.2, MinWidthRatio = 0.6, MaxWidthRatio = 1.6;

    /// <summary>The keys of the results that show no face where the set's faces are.</summary>
    public static HashSet<TKey> NoTypicalFace<TKey>(IReadOnlyDictionary<TKey, FaceCheckResult> results) where TKey : notnull
    {
        var boxes = results.Values.Where(r => r.Found && r.HasBox).ToList();
        var outliers = new HashSet<TKey>();
        float cx = Median(boxes.Select(b => b.CentreX)), cy = Median(boxes.Select(b => b.CentreY)), w = Median(boxes.Select(b => b.Width));
        foreach (var (key, r) in results)
        {
            if (!r.Found) { outliers.Add(key); continue; }
            if (!r.HasBox || boxes.Count < 3) continue;
            if (Math.Abs(r.CentreX - cx) > MaxCentreOffset || Math.Abs(r.CentreY - cy) > MaxCentreOffset || r.Width / w is < (float)MinWidthRatio or > (float)MaxWidthRatio)
                outliers.Add(key);
        }
        return outliers;
    }

    private static float Median(IEnumerable<float> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? float.NaN : v[v.Length / 2];
    }
}
