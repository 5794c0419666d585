using FaceCluster.Coordinator.Ledger.State;

namespace FaceCluster.Coordinator.Ledger.Curation;

/// <summary>
/// What the next <see cref="CurationDirectives"/> carry besides the statuses: the samples quarantined and restored
/// since the last close (by the policy or by a person), and the last directives given (a repeated close gets the same
/// answer). The first close after the ledger opens also prunes everything already quarantined, so that a
/// restarted coordinator learns the whole quarantine.
/// </summary>
internal sealed class DirectiveBook
{
    private readonly HashSet<int> _prune = new();
    private readonly HashSet<int> _restored = new();
    private bool _firstClose = true;

    public CurationDirectives? Last { get; set; }

    public void Quarantined(int d)
    {
        _prune.Add(d);
        _restored.Remove(d);
    }

    public void Restored(int d)
    {
        _restored.Add(d);
        _prune.Remove(d);
    }

    /// <summary>A replayed close: its directives were given then, so nothing since the previous one is pending.</summary>
    public void Replayed(CurationDirectives directives)
    {
        Last = directives;
        _prune.Clear();
        _restored.Clear();
    }

    /// <summary>The directives of a live close of <paramref name="cycle"/>, from the statuses after its decisions and what is pending.</summary>
    public CurationDirectives Build(LedgerState s, CurationPolicyOptions policy, long cycle)
    {
        var prune = new HashSet<int>(_prune);
        if (_firstClose) prune.UnionWith(s.InStatus(SampleStatus.Quarantined));
        bool off = policy.Mode == CurationMode.Off;
        int[] refeedDense = off ? [] : s.InStatus(SampleStatus.Refed).OrderBy(d => s.Ids[d]).ToArray();
        var directives = new CurationDirectives(
            cycle,
            Ids(s, prune),
            refeedDense.Select(d => s.Ids[d]).ToArray(),
            refeedDense.Select(d => s.Policy[d].RefeedWeight > 1 ? s.Policy[d].RefeedWeight : (float)Math.Max(1, policy.RefeedWeight)).ToArray(),
            off ? [] : Ids(s, s.InStatus(SampleStatus.Flagged)),
            off ? [] : Ids(s, s.InStatus(SampleStatus.AwaitingReview)),
            Ids(s, _restored));
        _prune.Clear();
        _restored.Clear();
        _firstClose = false;
        return directives;
    }

    private static int[] Ids(LedgerState s, IEnumerable<int> dense)
    {
        var ids = dense.Select(d => s.Ids[d]).ToArray();
        Array.Sort(ids);
        return ids;
    }
}
