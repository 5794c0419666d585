using FaceCluster.Coordinator.Ledger.Curation;

namespace FaceCluster.Coordinator.Ledger.Store;

/// <summary>One sample in one closed cycle, as stored in ledger.db (packed per block of samples).</summary>
internal readonly record struct CycleSampleRow(int Dense, int Observations, float MeanRelative, float MeanLoss, float Z, float ErraticZ, CycleFlags Flags, byte Status);
