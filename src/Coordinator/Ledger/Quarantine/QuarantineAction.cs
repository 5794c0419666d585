
namespace FaceCluster.Coordinator.Ledger.Quarantine;

/// <summary>What quarantining a sample does to its file. Neither deletes anything.</summary>
public enum QuarantineAction
{
    /// <summary>The sample leaves training; its file is untouched.</summary>
    Exclude,
    /// <summary>The sample leaves training and its file moves to RUNDIR/quarantine/&lt;identity&gt;/&lt;cycle&gt;-&lt;step&gt;_&lt;name&gt;.</summary>
    Move,
}
