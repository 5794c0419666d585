using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceCluster.Coordinator.Ledger.Quarantine;

/// <summary>
/// Quarantines samples and undoes quarantines. Never deletes a face: <see cref="QuarantineAction.Exclude"/> leaves the
/// file alone; <see cref="QuarantineAction.Move"/> moves it to RUNDIR/quarantine/&lt;identity&gt;/&lt;cycle&gt;-&lt;step&gt;_&lt;name&gt;
/// — by rename on the same file system; otherwise by a copy to a temporary name in the target folder, fsync, a
/// SHA-256 check against the original, a rename, and only then the removal of the original. Every quarantine and
/// restore is recorded by the <see cref="LedgerWriter"/> (written with its next flush). Before a file moves, the move
/// is committed to the ledger's journal on its own; the flush that writes the record closes the entry. A start that
/// finds an entry open puts the file back where the committed ledger has it (<see cref="RevertOpenMoves"/>), so a
/// crash or a full disk at any point leaves the file and the ledger agreeing, and no file is lost.
/// </summary>
public sealed partial class QuarantineManager
{
    private readonly LedgerWriter _writer;
    private readonly ILogger _log;
    private long _nextId;

    public QuarantineManager(LedgerWriter writer, string runDir, string? dataRoot, QuarantineAction action, long nextId = 1, ILogger? logger = null)
    {
        _writer = writer;
        RunDir = Path.GetFullPath(runDir);
        DataRoot = string.IsNullOrWhiteSpace(dataRoot) ? null : Path.GetFullPath(dataRoot);
        Action = action;
        _nextId = Math.Max(1, nextId);
        _log = logger ?? NullLogger.Instance;
        if (action == QuarantineAction.Move && DataRoot == null)
            throw new FaceClusterException("the move prune action needs the face set's data root", ExitCodes.UsageError);
    }

    public string RunDir { get; }
    public string? DataRoot { get; }
    public QuarantineAction Action { get; }

    /// <summary>RUNDIR/quarantine: where moved files go.</summary>
    public string QuarantineRoot => Path.Combine(RunDir, FolderName);

    /// <summary>RUNDIR/quarantine.</summary>
    public const string FolderName = "quarantine";

    /// <summary>Tests: take the copy-verify-rename path even on one file system.</summary>
    internal bool ForceCopy { get; set; }

    /// <summary>The absolute path of a sample's file, or its relative path when no data root is known.</summary>
    public string OriginalPathOf(string relativePath) =>
        DataRoot == null ? relativePath : Path.GetFullPath(Path.Combine(DataRoot, relativePath.Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>
    /// Quarantines one sample with this manager's action and records it. A move that fails (missing file, no
    /// permission) falls back to exclude, with the failure in the record's reason: the sample still leaves training.
    /// </summary>
    public QuarantineRecord Quarantine(int dense, int sampleId, string identity, string relativePath, long cycle, long step, string reason, DateTime at)
    {
        string original = OriginalPathOf(relativePath);
        var record = new QuarantineRecord(_nextId++, dense, sampleId, identity, relativePath, cycle, step, QuarantineAction.Exclude,
            original, original, "", reason, at, -1, null);
        if (Action == QuarantineAction.Move)
        {
            try
            {
                string target = TargetPath(identity, relativePath, cycle, step);
                string hash = Sha256Of(original);
                Journal(record.Id, original, target, hash);
                MoveVerified(original, target, hash);
                record = record with { Action = QuarantineAction.Move, CurrentPath = target, Sha256 = hash };
                _log.LogInformation("Quarantined sample {Id}: moved {From} to {To}", sampleId, original, target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FaceClusterException)
            {
                _log.LogWarning("Sample {Id} is excluded but its file {Path} could not be moved: {Message}", sampleId, original, e.Message);
                ForgetJournal(record.Id);
                record = record with { Reason = $"{reason} (file not moved: {e.Message})" };
            }
        }
        _writer.PutQuarantine(record);
        return record;
    }

    /// <summary>
    /// Undoes a quarantine: moves a moved file back (verifying its SHA-256) and records the restore. Throws a
    /// <see cref="FaceClusterException"/> naming the path if the quarantined file is missing or changed, or if
    /// something else now occupies the original path; nothing is changed then.
    /// </summary>
    public QuarantineRecord Restore(QuarantineRecord record, long cycle, DateTime at)
    {
        if (record.IsRestored) return record;
        var restored = record with { RestoredCycle = cycle, RestoredAt = at };
        if (record.Action == QuarantineAction.Move && !string.Equals(record.CurrentPath, record.OriginalPath, StringComparison.Ordinal))
        {
            if (!File.Exists(record.CurrentPath))
                throw new FaceClusterException($"cannot restore sample {record.SampleId}: its quarantined file {record.CurrentPath} is missing");
            if (File.Exists(record.OriginalPath) || Directory.Exists(record.OriginalPath))
                throw new FaceClusterException($"cannot restore sample {record.SampleId}: {record.OriginalPath} is occupied by another file; move it away first (the quarantined file stays at {record.CurrentPath})");
            string hash = Sha256Of(record.CurrentPath);
            if (!string.Equals(hash, record.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new FaceClusterException($"cannot restore sample {record.SampleId}: {record.CurrentPath} changed since it was quarantined (SHA-256 {hash}, recorded {record.Sha256})");
            Journal(record.Id, record.CurrentPath, record.OriginalPath, hash);
            try
            {
                MoveVerified(record.CurrentPath, record.OriginalPath, hash);
            }
            catch
            {
                ForgetJournal(record.Id);
                throw;
            }
            restored = restored with { CurrentPath = record.OriginalPath };
            _log.LogInformation("Restored sample {Id}: moved {From} back to {To}", record.SampleId, record.CurrentPath, record.OriginalPath);
        }
        _writer.PutQuarantine(restored);
        return restored;
    }

    /// <summary>Commits the move to the journal first; a ledger that cannot record it (a full disk) moves nothing.</summary>
    private void Journal(long qid, string from, string to, string sha256)
    {
        try
        {
            _writer.JournalMove(qid, from, to, sha256);
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            throw new IOException($"the ledger could not record the move first ({e.Message}); the file stays at {from}", e);
        }
    }

    /// <summary>Closes a journal entry whose move did not happen (best effort: a start reverts nothing for a file still in place).</summary>
    private void ForgetJournal(long qid)
    {
        try { _writer.CloseMove(qid); }
        catch (Microsoft.Data.Sqlite.SqliteException e) { _log.LogWarning("Could not close the move journal's entry {Id}: {Message}", qid, e.Message); }
    }

    /// <summary>
    /// At start: every move whose record never committed is undone, so the file is where the committed ledger has it
    /// (at <c>from</c>). The file at <c>to</c> (whole, checked by SHA-256) goes back; a verified copy beside a kept
    /// original and a partial copy are removed (they are this manager's own copies, never the only one of a face).
    /// Returns how many moves were undone.
    /// </summary>
    public int RevertOpenMoves(IReadOnlyList<(long Qid, string From, string To, string Sha256)> open)
    {
        int reverted = 0;
        foreach (var (qid, from, to, sha256) in open)
        {
            try
            {
                foreach (string partial in PartialCopies(to)) File.Delete(partial);
                bool atFrom = File.Exists(from), atTo = File.Exists(to);
                if (atTo && !atFrom)
                {
                    if (!string.Equals(Sha256Of(to), sha256, StringComparison.OrdinalIgnoreCase))
                        throw new IOException($"{to} is not the file that was being moved (SHA-256 differs); it is left there");
                    MoveVerified(to, from, sha256);
                    _log.LogWarning("Undid an unrecorded move of quarantine {Id}: {To} is back at {From}", qid, to, from);
                    reverted++;
                }
                else if (atTo && atFrom && string.Equals(Sha256Of(to), Sha256Of(from), StringComparison.OrdinalIgnoreCase))
                {
                    File.Delete(to); // the verified copy of an interrupted cross-device move; the original stayed
                    reverted++;
                }
                else if (!atFrom)
                    _log.LogError("Quarantine {Id}: neither {From} nor {To} exists; the ledger keeps its last committed record", qid, from, to);
                _writer.CloseMove(qid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FaceClusterException)
            {
                _log.LogError("Quarantine {Id}: could not undo the unrecorded move {From} -> {To}: {Message}; it is tried again at the next start", qid, from, to, e.Message);
            }
        }
        return reverted;
    }

    private static IEnumerable<string> PartialCopies(string target)
    {
        string? dir = Path.GetDirectoryName(target);
        if (dir == null || !Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, $".{Path.GetFileName(target)}.*.tmp").ToList();
    }

    /// <summary>RUNDIR/quarantine/&lt;identity&gt;/&lt;cycle&gt;-&lt;step&gt;_&lt;name&gt;, with ~2, ~3… before the extension if taken.</summary>
    internal string TargetPath(string identity, string relativePath, long cycle, long step)
    {
        string folder = Path.Combine(QuarantineRoot, SafeName(identity));
        string name = $"{cycle}-{step}_{Path.GetFileName(relativePath.Replace('/', Path.DirectorySeparatorChar))}";
        string target = Path.Combine(folder, name);
        for (int k = 2; File.Exists(target) || Directory.Exists(target); k++)
            target = Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(name)}~{k}{Path.GetExtension(name)}");
        return target;
    }

    private static string SafeName(string identity)
    {
        var invalid = Path.GetInvalidFileNameChars();
        string name = new string(identity.Select(c => invalid.Contains(c) || c == '/' || c == '\\' ? '_' : c).ToArray()).Trim();
        return name.Length == 0 || name is "." or ".." ? "_" : name;
    }

    internal static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Moves <paramref name="source"/> to <paramref name="target"/> (which must not exist) without ever having neither.</summary>
    private void MoveVerified(string source, string target, string sha256)
    {
        string targetDir = Path.GetDirectoryName(target)!;
        string sourceDir = Path.GetDirectoryName(source)!;
        Directory.CreateDirectory(targetDir);
        if (File.Exists(target) || Directory.Exists(target)) throw new FaceClusterException($"{target} already exists");
        if (!ForceCopy && TryRename(source, target))
        {
            DurableFiles.SyncDirectory(targetDir);
            DurableFiles.SyncDirectory(sourceDir);
            return;
        }
        string temp = Path.Combine(targetDir, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                input.CopyTo(output);
                output.Flush(flushToDisk: true);
            }
            string copied = Sha256Of(temp);
            if (!string.Equals(copied, sha256, StringComparison.OrdinalIgnoreCase))
                throw new IOException($"the copy of {source} at {temp} has SHA-256 {copied}, not {sha256}");
            File.Move(temp, target, overwrite: false);
            DurableFiles.SyncDirectory(targetDir);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        File.Delete(source);
        DurableFiles.SyncDirectory(sourceDir);
    }

    /// <summary>rename(2) on Unix: true when done, false when the paths are on different file systems (EXDEV).</summary>
    private static bool TryRename(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            if (!string.Equals(Path.GetPathRoot(source), Path.GetPathRoot(target), StringComparison.OrdinalIgnoreCase)) return false;
            File.Move(source, target, overwrite: false);
            return true;
        }
        if (Rename(source, target) == 0) return true;
        int errno = Marshal.GetLastPInvokeError();
        const int EXDEV = 18;
        if (errno == EXDEV) return false;
        if (!File.Exists(source)) throw new FileNotFoundException($"{source} does not exist", source);
        throw new IOException($"cannot move {source} to {target}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string oldPath, string newPath);
}
