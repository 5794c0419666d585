namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>Writes the run's state for the coordinator, off the actor's thread.</summary>
public interface IRunCheckpointer
{
    /// <summary>Fetches a replica's state from <paramref name="stateEndpoint"/> and saves it with the run state; returns the folder and its validation figure.</summary>
    Task<SavedCheckpoint> SaveAsync(string stateEndpoint, RunStateSnapshot state, CancellationToken cancellationToken);
}

/// <summary>The run state saved beside the model.</summary>
public sealed record RunStateSnapshot(long Step, long Cycle, int[] Excluded, int[] RefeedIds, float[] RefeedWeights, double MeanLoss, string Checksum);
