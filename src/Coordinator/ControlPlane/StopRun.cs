namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>
/// Asks the coordinator to end the run early and cleanly (SIGTERM, Ctrl-C): the replicas stop at a near step
/// boundary, a checkpoint of that step is written, then the run finishes with <paramref name="Reason"/>. Sent on
/// the coordinator's own node only.
/// </summary>
public sealed record StopRun(string Reason);
