using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>
/// A PNG grid for eyeballing a synthetic face set: one row of good images per identity, then one row of hard
/// images and one per bad kind (samples across identities, each captioned with its folder's identity).
/// </summary>
public static class SynthContactSheet
{
    private const int LabelWidth = 230, CaptionHeight = 16, MaxIdentityRows = 16;

    /// <summary>Refuses a sheet path that is not a .png or that lies inside the face-set or holdout folder.</summary>
    public static void CheckOutputPath(string sheetPath, string dataDir)
    {
        string sheet = Path.GetFullPath(sheetPath);
        if (!sheet.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new FaceClusterException($"--contact-sheet {sheetPath}: the sheet is written as PNG, so its name must end with .png", ExitCodes.UsageError);
        foreach (string dir in new[] { Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir)), SynthTruth.HoldoutDirFor(dataDir) })
            if (sheet.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new FaceClusterException($"--contact-sheet {sheetPath} is inside {dir}; put it outside the face set so trainers never read it", ExitCodes.UsageError);
    }

    /// <summary>Writes the sheet for the face set in <paramref name="dataDir"/> described by <paramref name="truth"/>.</summary>
    public static void Write(SynthTruth truth, string dataDir, string sheetPath, int columns = 8)
    {
        CheckOutputPath(sheetPath, dataDir);
        int size = truth.Parameters.Size;
        int cell = Math.Clamp(size * 2, 64, 160);
        var rows = new List<(string Label, string Sub, List<SynthFileEntry> Entries)>();
        foreach (var identity in truth.Identities.Take(MaxIdentityRows))
            rows.Add((identity.Name, identity.Summary, truth.Files.Where(f => f.Identity == identity.Name && f.Kind == SynthKind.Good).Take(columns).ToList()));
        foreach (var kind in SynthKinds.All.Skip(1))
        {
            // Round-robin over identities so a row shows the kind on several faces.
            var byIdentity = truth.Files.Where(f => f.Kind == kind).GroupBy(f => f.Identity).Select(g => new Queue<SynthFileEntry>(g)).ToList();
            var picked = new List<SynthFileEntry>();
            while (picked.Count < columns && byIdentity.Any(q => q.Count > 0))
                foreach (var queue in byIdentity)
                    if (queue.Count > 0 && picked.Count < columns) picked.Add(queue.Dequeue());
            if (picked.Count > 0) rows.Add((kind.WireName(), kind.IsBad() ? "planted bad" : "valid, must be kept", picked));
        }

        int rowHeight = cell + CaptionHeight;
        using var sheet = new Mat(rows.Count * rowHeight + 4, LabelWidth + columns * (cell + 4), MatType.CV_8UC3, new Scalar(245, 245, 245));
        for (int r = 0; r < rows.Count; r++)
        {
            var (label, sub, entries) = rows[r];
            int top = r * rowHeight + 2;
            Cv2.PutText(sheet, label, new Point(6, top + cell / 2 - 4), HersheyFonts.HersheySimplex, 0.55, new Scalar(20, 20, 20), 1, LineTypes.AntiAlias);
            int line = 0;
            foreach (string piece in Wrap(sub, 30).Take(3))
                Cv2.PutText(sheet, piece, new Point(6, top + cell / 2 + 14 + 14 * line++), HersheyFonts.HersheySimplex, 0.38, new Scalar(90, 90, 90), 1, LineTypes.AntiAlias);
            for (int c = 0; c < entries.Count; c++)
            {
                var entry = entries[c];
                using var image = Cv2.ImRead(Path.Combine(dataDir, entry.Path.Replace('/', Path.DirectorySeparatorChar)), ImreadModes.Color);
                if (image.Empty()) continue;
                using var scaled = new Mat();
                Cv2.Resize(image, scaled, new Size(cell, cell), 0, 0, cell >= size ? InterpolationFlags.Nearest : InterpolationFlags.Area);
                int left = LabelWidth + c * (cell + 4);
                using (var target = new Mat(sheet, new Rect(left, top, cell, cell)))
                    scaled.CopyTo(target);
                string caption = entry.SourceIdentity is { } source ? $"{entry.Identity}<{source}" : entry.Identity;
                Cv2.PutText(sheet, caption, new Point(left + 2, top + cell + 12), HersheyFonts.HersheySimplex, 0.36, new Scalar(60, 60, 60), 1, LineTypes.AntiAlias);
            }
        }
        string? folder = Path.GetDirectoryName(Path.GetFullPath(sheetPath));
        if (folder is not null) Directory.CreateDirectory(folder);
        Cv2.ImEncode(".png", sheet, out byte[] bytes);
        File.WriteAllBytes(sheetPath, bytes);
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new System.Text.StringBuilder();
        foreach (string word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }
}
