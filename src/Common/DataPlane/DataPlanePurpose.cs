namespace FaceCluster.Common.DataPlane;

/// <summary>What a data-plane connection is for; sent in the Hello. Never renumber.</summary>
internal enum DataPlanePurpose : byte
{
    /// <summary>A ring member connecting to its successor for all-reduce frames.</summary>
    Ring = 1,
    /// <summary>A worker fetching a replica's full state.</summary>
    State = 2,
}
