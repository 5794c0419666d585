namespace FaceCluster.Common.FaceSet;

/// <summary>
/// A sample that could not be loaded while building batch <see cref="BatchIndex"/> at slot
/// <see cref="Position"/>: the file became unreadable, truncated or undecodable after the scan.
/// <see cref="SubstituteId"/> is the sample of the same batch that filled the slot (null when the whole
/// batch failed and was dropped).
/// </summary>
public sealed record BadSample(int SampleId, long BatchIndex, int Position, RejectReason Reason, string Detail, int? SubstituteId);
