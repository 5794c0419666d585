using System.Security.Cryptography;
using System.Text.Json;
using FaceCluster.Common.IO;
using FaceCluster.Common.Models.Training;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace FaceCluster.Common.Models.Checkpoints;

/// <summary>
/// Component checkpoints in RUNDIR/checkpoints/step-&lt;N&gt;/: one file per model component (encoder.pt,
/// decoder-&lt;identity&gt;.pt, ...), optimizer.bin (optimizer.pt in older checkpoints) and meta.json with checksums.
/// A save writes a hidden temporary folder, flushes every file and renames the folder into place, so a
/// reader never sees a half-written checkpoint. The last K checkpoints and the best one are kept.
/// </summary>
public sealed class CheckpointStore
{
    public const string MetaFile = "meta.json";
    /// <summary>The optimizer's moments (<see cref="FlatAdam"/>'s format).</summary>
    public const string OptimizerFile = "optimizer.bin";

    /// <summary>A TorchSharp Adam state dictionary: what checkpoints held before the flat optimizer; still read.</summary>
    public const string LegacyOptimizerFile = "optimizer.pt";
    private const string Prefix = "step-";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly ILogger _log;

    /// <summary>RUNDIR/checkpoints.</summary>
    public const string FolderName = "checkpoints";

    public CheckpointStore(string runDirectory, int keepLast = 3, ILogger? logger = null)
    {
        if (keepLast < 1) throw new FaceClusterException($"--keep-checkpoints must be at least 1, got {keepLast}", ExitCodes.UsageError);
        Root = Path.Combine(Path.GetFullPath(runDirectory), FolderName);
        KeepLast = keepLast;
        _log = logger ?? NullLogger.Instance;
    }

    public string Root { get; }
    public int KeepLast { get; }

    public static string ComponentFile(string component) => component + ".pt";

    /// <summary>Saves a replica's bundle (its component files and optimizer) with <paramref name="meta"/>; returns the folder.</summary>
    public CheckpointInfo Save(ReplicaTrainer trainer, CheckpointMeta meta, IReadOnlyDictionary<string, byte[]>? extraFiles = null) =>
        Save(trainer.ExportBundle(), meta, extraFiles);

    /// <summary>Saves a bundle (e.g. fetched from a remote worker) with <paramref name="meta"/>; returns the folder.</summary>
    public CheckpointInfo Save(ModelBundle bundle, CheckpointMeta meta, IReadOnlyDictionary<string, byte[]>? extraFiles = null)
    {
        if (bundle.Step != meta.Step) throw new ArgumentException($"the bundle is of step {bundle.Step}, the metadata says {meta.Step}");
        Directory.CreateDirectory(Root);
        string final = Path.Combine(Root, Prefix + meta.Step.ToString(CultureInfo.InvariantCulture));
        string tmp = Path.Combine(Root, $".tmp-{Prefix}{meta.Step}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(tmp);
            var files = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, bytes) in bundle.Files.Concat(extraFiles ?? new Dictionary<string, byte[]>()))
            {
                if (name is MetaFile || name.Contains('/') || name.Contains('\\') || name.StartsWith('.') || files.ContainsKey(name))
                    throw new ArgumentException($"'{name}' is not allowed as a checkpoint file name");
                files[name] = WriteHashed(Path.Combine(tmp, name), s => s.Write(bytes));
            }
            var complete = meta with
            {
                Files = files,
                FaceClusterVersion = typeof(CheckpointStore).Assembly.GetName().Version?.ToString() ?? "",
            };
            WriteHashed(Path.Combine(tmp, MetaFile), s => JsonSerializer.Serialize(s, complete, Json));
            DurableFiles.SyncDirectory(tmp);

            string? replaced = null;
            if (Directory.Exists(final))
            {
                replaced = Path.Combine(Root, $".replaced-{Prefix}{meta.Step}-{Guid.NewGuid():N}");
                Directory.Move(final, replaced);
            }
            Directory.Move(tmp, final);
            DurableFiles.SyncDirectory(Root);
            if (replaced != null) TryDeleteDirectory(replaced);
            var info = new CheckpointInfo(final, complete);
            ApplyRetention();
            return info;
        }
        catch (IOException e)
        {
            TryDeleteDirectory(tmp);
            string previous = KeptNote();
            bool full = (e.HResult & 0xFFFF) is 28 or 122 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
            throw new FaceClusterException(
                (full ? $"the disk is full: checkpoint step-{meta.Step} could not be written to {Root}" : $"checkpoint step-{meta.Step} could not be written to {Root}: {e.Message}") + previous,
                full ? ExitCodes.NoSpace : ExitCodes.UserError, e);
        }
        catch
        {
            TryDeleteDirectory(tmp);
            throw;
        }
    }

    /// <summary>What a failed save leaves in place: "; the previous checkpoint step-N is kept", or "" when there is none.</summary>
    public string KeptNote() => FindLatestValid(out _)?.Directory is string p ? $"; the previous checkpoint {Path.GetFileName(p)} is kept" : "";

    /// <summary>
    /// The newest checkpoint whose files all match their checksums. Corrupt or half-written ones are skipped;
    /// each skip is described in <paramref name="warnings"/> (and logged).
    /// </summary>
    public CheckpointInfo? FindLatestValid(out List<string> warnings)
    {
        warnings = new List<string>();
        foreach (var (step, dir) in ListFolders().OrderByDescending(f => f.Step))
        {
            string? problem = Verify(dir, out var meta);
            if (problem == null && meta!.Step == step)
            {
                if (warnings.Count > 0) warnings.Add($"using checkpoint {Path.GetFileName(dir)} instead");
                foreach (var w in warnings) _log.LogWarning("{Warning}", w);
                return new CheckpointInfo(dir, meta);
            }
            warnings.Add($"checkpoint {Path.GetFileName(dir)} is unusable: {problem ?? "its meta.json names another step"}");
        }
        foreach (var w in warnings) _log.LogWarning("{Warning}", w);
        return null;
    }

    /// <summary>Every valid checkpoint, oldest first.</summary>
    public IReadOnlyList<CheckpointInfo> ListValid()
    {
        var result = new List<CheckpointInfo>();
        foreach (var (_, dir) in ListFolders().OrderBy(f => f.Step))
            if (Verify(dir, out var meta) == null) result.Add(new CheckpointInfo(dir, meta!));
        return result;
    }

    /// <summary>Reads and verifies a checkpoint folder (e.g. one given with --init-encoder).</summary>
    public static CheckpointInfo Open(string directory)
    {
        string? problem = Verify(directory, out var meta);
        if (problem != null) throw new FaceClusterException($"checkpoint {directory} is unusable: {problem}");
        return new CheckpointInfo(Path.GetFullPath(directory), meta!);
    }

    /// <summary>Reads a verified checkpoint folder as a bundle.</summary>
    public static ModelBundle ReadBundle(CheckpointInfo checkpoint)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in checkpoint.Meta.Files.Keys)
            if (name.EndsWith(".pt", StringComparison.Ordinal) || name == OptimizerFile) files[name] = File.ReadAllBytes(checkpoint.File(name));
        var m = checkpoint.Meta;
        return new ModelBundle(m.ModelKind, m.Preset, m.Labels, m.Step, files);
    }

    /// <summary>Loads every component and the optimizer into <paramref name="trainer"/>, after checking that the checkpoint fits.</summary>
    public static void Load(ReplicaTrainer trainer, CheckpointInfo checkpoint)
    {
        var model = trainer.Model;
        var meta = checkpoint.Meta;
        string where = "checkpoint " + Path.GetFileName(checkpoint.Directory);
        if (meta.Preset != model.Preset.Name || meta.ImageSize != model.Preset.ImageSize)
            throw new FaceClusterException($"{where} was saved with preset '{meta.Preset}' ({meta.ImageSize}px); this run uses '{model.Preset.Name}' ({model.Preset.ImageSize}px)");
        trainer.ImportBundle(ReadBundle(checkpoint), where);
    }

    /// <summary>
    /// Loads one component's weights from a file, or from a checkpoint folder's file of that component
    /// (warm start: --init-encoder / --init-decoder). A preset or shape mismatch is a clear error.
    /// </summary>
    public static void LoadComponent(torch.nn.Module module, string componentName, ModelPreset preset, string path, string sourceComponent)
    {
        string file = path;
        if (Directory.Exists(path))
        {
            var info = Open(path);
            if (info.Meta.Preset != preset.Name || info.Meta.ImageSize != preset.ImageSize)
                throw new FaceClusterException($"{path} was saved with preset '{info.Meta.Preset}' ({info.Meta.ImageSize}px); this run uses '{preset.Name}' ({preset.ImageSize}px)");
            file = info.File(ComponentFile(sourceComponent));
            if (!File.Exists(file)) throw new FaceClusterException($"{path} has no {ComponentFile(sourceComponent)}");
        }
        else if (!File.Exists(path))
            throw new FaceClusterException($"{path}: no such file or checkpoint folder");
        else
        {
            string sibling = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, MetaFile);
            if (File.Exists(sibling) && Verify(Path.GetDirectoryName(Path.GetFullPath(path))!, out var meta) == null &&
                (meta!.Preset != preset.Name || meta.ImageSize != preset.ImageSize))
                throw new FaceClusterException($"{path} was saved with preset '{meta.Preset}' ({meta.ImageSize}px); this run uses '{preset.Name}' ({preset.ImageSize}px)");
        }
        using var scope = torch.NewDisposeScope();
        LoadModule(module, file, componentName, file);
    }

    private static void LoadModule(torch.nn.Module module, string file, string component, string where)
    {
        try
        {
            module.load(file, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FaceClusterException($"{where}: {Path.GetFileName(file)} does not fit this model's {component} (another preset or shape?): {e.Message}", ExitCodes.UserError, e);
        }
    }

    private IEnumerable<(long Step, string Dir)> ListFolders()
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(Root, Prefix + "*"))
        {
            string name = Path.GetFileName(dir);
            if (long.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long step))
                yield return (step, dir);
        }
    }

    private static string? Verify(string dir, out CheckpointMeta? meta)
    {
        meta = null;
        string metaPath = Path.Combine(dir, MetaFile);
        if (!File.Exists(metaPath)) return "meta.json is missing";
        try
        {
            using var s = File.OpenRead(metaPath);
            meta = JsonSerializer.Deserialize<CheckpointMeta>(s);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return $"meta.json cannot be read ({e.Message})";
        }
        if (meta == null) return "meta.json is empty";
        if (meta.Format > CheckpointMeta.CurrentFormat) return $"format {meta.Format} is newer than this build understands ({CheckpointMeta.CurrentFormat})";
        if (meta.Files.Count == 0) return "meta.json lists no files";
        foreach (var (name, expected) in meta.Files)
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path)) return $"{name} is missing";
            string actual;
            try { actual = HashFile(path); }
            catch (IOException e) { return $"{name} cannot be read ({e.Message})"; }
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase)) return $"{name} does not match its checksum";
        }
        return null;
    }

    private void ApplyRetention()
    {
        var valid = ListValid();
        if (valid.Count <= KeepLast) return;
        var keep = new HashSet<string>(valid.TakeLast(KeepLast).Select(c => c.Directory));
        var best = valid.Where(c => c.Meta.Metric is double m && double.IsFinite(m)).OrderBy(c => c.Meta.Metric).ThenByDescending(c => c.Step).FirstOrDefault();
        if (best != null) keep.Add(best.Directory);
        foreach (var c in valid)
            if (!keep.Contains(c.Directory))
            {
                _log.LogDebug("Removing old checkpoint {Checkpoint}", c.Directory);
                TryDeleteDirectory(c.Directory);
            }
        // Leftovers of writers that died mid-save.
        foreach (var dir in Directory.EnumerateDirectories(Root, ".tmp-*").Concat(Directory.EnumerateDirectories(Root, ".replaced-*")))
            if (Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddMinutes(-10)) TryDeleteDirectory(dir);
    }

    /// <summary>The best checkpoint (lowest metric) among the valid ones, if any has a metric.</summary>
    public CheckpointInfo? FindBest() =>
        ListValid().Where(c => c.Meta.Metric is double m && double.IsFinite(m)).OrderBy(c => c.Meta.Metric).ThenByDescending(c => c.Step).FirstOrDefault();

    private static string WriteHashed(string path, Action<Stream> write)
    {
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        return HashFile(path);
    }

    private static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private static void TryDeleteDirectory(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
