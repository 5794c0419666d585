using System.Text.Json;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;

namespace FaceCluster.Cli.Commands;

/// <summary>
/// `facecluster ledger stats|worst|sample|identities|quarantine|review|curves|restore|decide`: the ledger of a
/// stopped run (--run RUNDIR, opened read-only for queries) or of a live coordinator (--url). Human tables by
/// default, --json for scripts.
/// </summary>
internal static class LedgerCommand
{
    private static readonly Option<string?> Run = new("--run") { Description = "A run folder: its ledger.db is read (queries open it read-only)." };
    private static readonly Option<string?> Url = new("--url") { Description = "A live coordinator's HTTP address, e.g. http://127.0.0.1:5080." };
    private static readonly Option<string?> Token = new("--token") { Description = "The coordinator's API token for changes over --url (default: read from RUNDIR/api.token when --run is given too)." };
    private static readonly Option<bool> Json = new("--json") { Description = "Print JSON instead of a table." };

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static Command Create()
    {
        var ledger = new Command("ledger", "Query a run's per-sample loss ledger, and restore or decide on faces.");
        ledger.Subcommands.Add(Query("stats", "Totals: samples, observations, steps, cycles and how many are re-fed, flagged or quarantined.", _ => GetLedgerStats.Instance));
        var count = new Option<int>("--count", "-n") { Description = "How many.", DefaultValueFactory = _ => 20 };
        var all = new Option<bool>("--include-quarantined") { Description = "Also rank quarantined samples." };
        ledger.Subcommands.Add(Query("worst", "The samples whose loss sits furthest from their batch-mates'.", p => new GetWorstSamples(p.GetValue(count), p.GetValue(all)), count, all));
        var id = new Argument<int>("id") { Description = "A sample id (see `ledger worst`)." };
        ledger.Subcommands.Add(Query("sample", "One sample: its statistics, cycles, status changes and quarantines.", p => new GetSampleHistory(p.GetValue(id)), id));
        ledger.Subcommands.Add(Query("identities", "Per-identity figures.", _ => GetLedgerIdentities.Instance));
        var restored = new Option<bool>("--include-restored") { Description = "Also list quarantines that were undone." };
        ledger.Subcommands.Add(Query("quarantine", "The quarantined faces, where their files are, and why.", p => new GetQuarantine(p.GetValue(restored)), restored));
        ledger.Subcommands.Add(Query("review", "Faces waiting for a person's decision (curation mode review).", _ => GetReviewQueue.Instance));
        var points = new Option<int>("--points") { Description = "Most points per curve.", DefaultValueFactory = _ => 50 };
        ledger.Subcommands.Add(Query("curves", "Loss curves: global, per identity and per worker; the checkpoints' validation figures.", p => new GetLossCurves(p.GetValue(points)), points));
        var ids = new Argument<int[]>("ids") { Description = "Sample ids to bring back into training.", Arity = ArgumentArity.OneOrMore };
        ledger.Subcommands.Add(Query("restore", "Bring quarantined faces back into training (moved files move back).", p => new RestoreSamples(p.GetValue(ids)!, "restored by the user"), ids));
        var decideId = new Argument<int>("id") { Description = "A sample id waiting for review." };
        var decision = new Argument<string>("decision") { Description = "quarantine or keep." };
        ledger.Subcommands.Add(Query("decide", "Decide on a face waiting for review: quarantine or keep.", p => new ReviewDecision(p.GetValue(decideId), ParseDecision(p.GetValue(decision)!)), decideId, decision));
        return ledger;
    }

    private static bool ParseDecision(string text) => text.Trim().ToLowerInvariant() switch
    {
        "quarantine" => true,
        "keep" => false,
        _ => throw new FaceClusterException($"decision '{text}' is not one: use quarantine or keep", ExitCodes.UsageError),
    };

    private static Command Query(string name, string description, Func<ParseResult, ILedgerRequest> request, params Symbol[] extra)
    {
        var command = new Command(name, description);
        foreach (var o in new Option[] { Run, Url, Token, Json }) command.Options.Add(o);
        foreach (var s in extra)
        {
            if (s is Option o) command.Options.Add(o);
            else if (s is Argument a) command.Arguments.Add(a);
        }
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var message = request(parse);
            object reply = Ask(parse, message);
            if (reply is LedgerError error)
                throw new FaceClusterException(error.UnknownSampleIds.Length > 0
                    ? $"unknown sample id(s) {string.Join(", ", error.UnknownSampleIds)}: {error.Message}"
                    : error.Message, ExitCodes.UserError);
            if (parse.GetValue(Json)) output.WriteLine(JsonSerializer.Serialize(reply, reply.GetType(), JsonOptions));
            else LedgerTables.Write(output, reply);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static object Ask(ParseResult parse, ILedgerRequest request)
    {
        string? run = parse.GetValue(Run);
        string? url = parse.GetValue(Url);
        if (url != null)
        {
            string? token = parse.GetValue(Token);
            if (token == null && run != null && File.Exists(RunFolder.OpenShared(run).TokenPath))
                token = File.ReadAllText(RunFolder.OpenShared(run).TokenPath).Trim();
            return LedgerHttpClient.Ask(url, request, token);
        }
        if (run == null) throw new FaceClusterException("say which ledger: --run RUNDIR (a run folder) or --url http://HOST:PORT (a live coordinator)", ExitCodes.UsageError);
        bool changes = request is RestoreSamples or ReviewDecision;
        if (!changes)
        {
            using var folder = RunFolder.OpenShared(run);
            if (!File.Exists(folder.LedgerPath)) throw new FaceClusterException($"the run folder {folder.Root} has no ledger (ledger.db); is it a run folder?");
            using var ledger = LedgerEngine.OpenReadOnly(folder.Root);
            return ledger.Handle(request);
        }
        // A change needs the run to be stopped (the live coordinator owns the ledger: use --url then).
        RunFolder locked;
        try { locked = RunFolder.OpenExclusive(run, "ledger command"); }
        catch (FaceClusterException e) when (e.ExitCode == ExitCodes.Locked)
        {
            throw new FaceClusterException(e.Message + "; while it runs, change its ledger through the coordinator: --url http://HOST:PORT", ExitCodes.Locked);
        }
        using (locked)
        {
            if (!File.Exists(locked.LedgerPath)) throw new FaceClusterException($"the run folder {locked.Root} has no ledger (ledger.db); is it a run folder?");
            var manifest = ManifestStore.TryLoad(locked.ManifestPath, out _);
            using var ledger = LedgerEngine.Open(new LedgerOptions(locked.Root, manifest?.DataRoot));
            var reply = ledger.Handle(request);
            ledger.Snapshot();
            return reply;
        }
    }
}

/// <summary>Human tables for the ledger's replies.</summary>
internal static class LedgerTables
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(TextWriter o, object reply)
    {
        switch (reply)
        {
            case LedgerStats s:
                o.WriteLine(string.Create(Inv, $"mode {s.Mode}: {s.Samples} samples of {s.Identities} identities, {s.Workers} workers"));
                o.WriteLine(string.Create(Inv, $"observations {s.Observations:N0} over {s.Steps:N0} steps and {s.Cycles} cycles (last cycle {s.LastCycle}, last step {s.LastStep}); last global loss {s.LastGlobalLoss:F5}"));
                o.WriteLine(string.Create(Inv, $"active {s.Active}, re-fed {s.Refed}, flagged {s.Flagged}, awaiting review {s.AwaitingReview}, quarantined {s.Quarantined}, restored {s.Restored}"));
                o.WriteLine(string.Create(Inv, $"incomplete steps {s.IncompleteSteps}, pending steps {s.PendingSteps}, late reports {s.LateReports}, unflushed records {s.UnflushedRecords}, non-finite losses {s.NonFiniteLosses}, unregistered samples {s.UnregisteredSamples}"));
                break;
            case WorstSamples w:
                o.WriteLine(string.Create(Inv, $"{w.Samples.Length} of {w.Ranked} ranked samples (last cycle {w.LastCycle})"));
                Samples(o, w.Samples);
                break;
            case ReviewQueue r:
                o.WriteLine($"{r.Samples.Length} face(s) awaiting review (decide: facecluster ledger decide ID quarantine|keep)");
                Samples(o, r.Samples);
                break;
            case SampleHistory h:
                var x = h.Sample;
                o.WriteLine(string.Create(Inv, $"sample {x.SampleId}: {x.Path} ({x.Identity}), {x.Status}{(x.Reason.Length > 0 ? " — " + x.Reason : "")}"));
                o.WriteLine(string.Create(Inv, $"  observations {x.Observations}, last loss {x.LastLoss:F5}, EMA loss {x.EmaLoss:F5}, relative {x.EmaRelative:F3} (spread {x.RelativeSpread:F3}), AUC {x.Auc:F2}, last z {x.LastZ:F2}, outlier in {x.OutlierCycles} of its last evaluated cycles"));
                if (x.IdentityProbes > 0)
                    o.WriteLine(string.Create(Inv, $"  identity probe: its own decoder's loss is ×{x.IdentityMargin:F3} the best other identity's (smoothed over {x.IdentityProbes} probes), z {x.IdentityZ:F2} against its identity"));
                if (h.Cycles.Length > 0)
                {
                    o.WriteLine($"  {"cycle",5} {"obs",4} {"rel.",7} {"loss",9} {"z",7}  status");
                    foreach (var c in h.Cycles)
                        o.WriteLine(string.Create(Inv, $"  {c.Cycle,5} {c.Observations,4} {c.MeanRelative,7:F3} {c.MeanLoss,9:F5} {c.Z,7:F2}  {c.Status}{(c.HighOutlier ? " high-outlier" : "")}{(c.LowOutlier ? " low-outlier" : "")}{(c.IdentityOutlier ? " identity-outlier" : "")}{(c.Refed ? " re-fed" : "")}"));
                }
                foreach (var c in h.Changes) o.WriteLine(string.Create(Inv, $"  cycle {c.Cycle} step {c.Step}: {c.From} → {c.To} ({c.Reason}) at {c.At}"));
                foreach (var q in h.Quarantines) o.WriteLine($"  quarantined in cycle {q.Cycle} ({q.Action}): now at {q.CurrentPath}{(q.Restored ? ", restored " + q.RestoredAt : "")}");
                break;
            case LedgerIdentities ids:
                o.WriteLine($"{"identity",-20} {"samples",7} {"active",6} {"re-fed",6} {"flagged",7} {"review",6} {"quar.",5} {"restored",8} {"mean loss",9} {"rel.",6}");
                foreach (var i in ids.Identities)
                    o.WriteLine(string.Create(Inv, $"{i.Name,-20} {i.Samples,7} {i.Active,6} {i.Refed,6} {i.Flagged,7} {i.AwaitingReview,6} {i.Quarantined,5} {i.Restored,8} {i.MeanLoss,9:F5} {i.MeanRelative,6:F3}"));
                break;
            case QuarantineList q:
                o.WriteLine($"{q.Entries.Length} quarantine(s)" + (q.Entries.Length == 0 ? "" : "; by signal: "
                    + string.Join(", ", q.Entries.GroupBy(e => e.Signal).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))));
                foreach (var e in q.Entries)
                    o.WriteLine(string.Create(Inv, $"  {e.SampleId,6}  {e.Identity,-16} cycle {e.Cycle,4} step {e.Step,6}  {e.Action,-7} {(e.Restored ? "restored" : "held"),-8}  {e.Path}  [{e.Signal}] ({e.Reason}){(e.Action == "move" ? " → " + e.CurrentPath : "")}"));
                break;
            case LossCurves c:
                foreach (var curve in new[] { c.Global }.Concat(c.Identities).Concat(c.Workers).Concat(c.Validation))
                {
                    var pts = curve.Steps.Zip(curve.MeanLoss).Select(p => string.Create(Inv, $"{p.First}:{p.Second:F4}"));
                    o.WriteLine($"{curve.Name}: {string.Join(" ", pts)}");
                }
                break;
            case SamplesRestored r:
                o.WriteLine($"restored {r.SampleIds.Length} sample(s): {string.Join(", ", r.SampleIds)}; {r.FilesMovedBack} file(s) moved back");
                foreach (var f in r.Failures) o.WriteLine($"  not restored {f.SampleId}: {f.Reason}");
                break;
            case ReviewRecorded d:
                o.WriteLine($"sample {d.SampleId}: {d.Status} ({d.CurrentPath})");
                break;
            default:
                o.WriteLine(JsonSerializer.Serialize(reply, reply.GetType(), LedgerCommand.JsonOptions));
                break;
        }
    }

    private static void Samples(TextWriter o, IEnumerable<SampleSummary> samples)
    {
        o.WriteLine($"  {"id",6}  {"identity",-16} {"status",-15} {"obs",5} {"rel. loss",9} {"z",6}  path");
        foreach (var s in samples)
            o.WriteLine(string.Create(Inv, $"  {s.SampleId,6}  {s.Identity,-16} {s.Status,-15} {s.Observations,5} {s.EmaRelative,9:F3} {s.LastZ,6:F2}  {s.Path}"));
    }
}
