namespace FaceCluster.Synth;

/// <summary>
/// Decides, before anything is drawn, which file is which: bad images spread as evenly as possible across
/// identities and kinds, hard images given to the identities with the fewest bad ones, kinds shuffled across
/// file numbers so that names reveal nothing, and every image's seed and format.
/// </summary>
internal sealed class SynthPlan
{
    private SynthPlan(IReadOnlyList<SynthPlannedImage> images, IReadOnlyList<SynthPlannedImage> holdout, int nameDigits, int numberDigits)
    {
        Images = images;
        Holdout = holdout;
        _nameDigits = nameDigits;
        _numberDigits = numberDigits;
    }

    private readonly int _nameDigits, _numberDigits;

    /// <summary>The images of the face-set folder, grouped by identity and ordered by file number.</summary>
    public IReadOnlyList<SynthPlannedImage> Images { get; }

    /// <summary>The clean holdout images, grouped by identity and ordered by file number.</summary>
    public IReadOnlyList<SynthPlannedImage> Holdout { get; }

    public string IdentityName(int identity) => "person-" + (identity + 1).ToString("D" + _nameDigits, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"person-01/person-01_0007.png": relative to the face-set (or holdout) folder, '/' separated.</summary>
    public string RelativePath(SynthPlannedImage image)
    {
        string name = IdentityName(image.Identity);
        string number = image.Number.ToString("D" + _numberDigits, System.Globalization.CultureInfo.InvariantCulture);
        return $"{name}/{name}_{number}.{(image.Jpeg ? "jpg" : "png")}";
    }

    public static SynthPlan Create(SynthOptions options)
    {
        int n = options.Identities, m = options.PerIdentity, seed = options.Seed;
        var rng = SynthSeeds.Create(seed, SynthSeeds.PlanStream);

        var order = Enumerable.Range(0, n).ToArray();
        rng.ShuffleInPlace(order);
        int[] bad = Spread(options.BadCount, order);
        // Totals (bad + hard) are spread the same way with the identities that got an extra bad image first, so
        // each identity's total is within one of the others and hard = total - bad is never negative.
        var totalOrder = order.OrderByDescending(i => bad[i]).ToArray(); // stable: keeps the shuffled order within ties
        int[] total = Spread(options.BadCount + options.HardCount, totalOrder);

        var kinds = AssignBadKinds(bad, order, n, rng);
        var images = new List<SynthPlannedImage>(n * m);
        var usedSeeds = new HashSet<int>();
        var jpegRng = SynthSeeds.Create(seed, SynthSeeds.PlanStream, 1);
        for (int identity = 0; identity < n; identity++)
        {
            var slots = new List<(SynthKind Kind, int Drawn)>(m);
            var others = Enumerable.Range(0, n).Where(i => i != identity).ToArray();
            int sourceOffset = others.Length > 0 ? rng.Next(others.Length) : 0, wrong = 0;
            foreach (var kind in kinds[identity])
                slots.Add((kind, kind == SynthKind.WrongIdentity ? others[(sourceOffset + wrong++) % others.Length] : identity));
            for (int h = 0; h < total[identity] - bad[identity]; h++) slots.Add((SynthKind.Hard, identity));
            while (slots.Count < m) slots.Add((SynthKind.Good, identity));
            rng.ShuffleInPlace(slots);
            for (int k = 0; k < m; k++)
            {
                int number = k + 1;
                int imageSeed = SynthSeeds.Derive(seed, SynthSeeds.ImageStream, identity, number);
                usedSeeds.Add(imageSeed);
                images.Add(new SynthPlannedImage(identity, number, slots[k].Kind, slots[k].Drawn, imageSeed, jpegRng.NextDouble() < options.JpegFraction));
            }
        }

        var holdout = new List<SynthPlannedImage>(n * options.HoldoutPerIdentity);
        var holdoutJpeg = SynthSeeds.Create(seed, SynthSeeds.HoldoutStream, -1);
        for (int identity = 0; identity < n; identity++)
        for (int number = 1; number <= options.HoldoutPerIdentity; number++)
        {
            // Disjoint from the training images' seeds, so no holdout image can repeat a training image.
            int imageSeed = SynthSeeds.Derive(seed, SynthSeeds.HoldoutStream, identity, number);
            for (int attempt = 1; usedSeeds.Contains(imageSeed); attempt++)
                imageSeed = SynthSeeds.Derive(seed, SynthSeeds.HoldoutStream, identity, number, attempt);
            usedSeeds.Add(imageSeed);
            holdout.Add(new SynthPlannedImage(identity, number, SynthKind.Good, identity, imageSeed, holdoutJpeg.NextDouble() < options.JpegFraction));
        }

        int nameDigits = Math.Max(2, n.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        int numberDigits = Math.Max(4, Math.Max(m, options.HoldoutPerIdentity).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        return new SynthPlan(images, holdout, nameDigits, numberDigits);
    }

    /// <summary>count / n to everyone, the remainder one each to the first identities of <paramref name="order"/>.</summary>
    private static int[] Spread(int count, int[] order)
    {
        int n = order.Length;
        var result = new int[n];
        for (int r = 0; r < n; r++) result[order[r]] = count / n + (r < count % n ? 1 : 0);
        return result;
    }

    /// <summary>
    /// Exact global balance of the bad kinds (counts differ by at most one), and within each identity as many
    /// different kinds as possible. Wrong-identity needs a second identity, so a one-identity set skips it.
    /// </summary>
    private static List<SynthKind>[] AssignBadKinds(int[] bad, int[] order, int n, Random rng)
    {
        var kinds = SynthKinds.Bad.Where(k => n > 1 || k != SynthKind.WrongIdentity).ToArray();
        rng.ShuffleInPlace(kinds);
        int total = bad.Sum();
        var remaining = new int[kinds.Length];
        for (int k = 0; k < kinds.Length; k++) remaining[k] = total / kinds.Length + (k < total % kinds.Length ? 1 : 0);
        var used = new int[n, kinds.Length];
        var result = Enumerable.Range(0, n).Select(_ => new List<SynthKind>()).ToArray();
        int rounds = bad.Length == 0 ? 0 : bad.Max();
        for (int round = 0; round < rounds; round++)
        {
            foreach (int identity in order)
            {
                if (bad[identity] <= round) continue;
                int best = -1;
                for (int k = 0; k < kinds.Length; k++)
                {
                    if (remaining[k] == 0) continue;
                    if (best < 0 || used[identity, k] < used[identity, best]
                        || (used[identity, k] == used[identity, best] && remaining[k] > remaining[best]))
                        best = k;
                }
                remaining[best]--;
                used[identity, best]++;
                result[identity].Add(kinds[best]);
            }
        }
        return result;
    }
}
