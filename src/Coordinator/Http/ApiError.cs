namespace FaceCluster.Coordinator.Http;

/// <summary>The JSON body of every error answer.</summary>
public sealed record ApiError(string Message, int[]? UnknownSampleIds = null);
