using System.Collections.Immutable;
using FaceCluster.Common.Protocol.Training;

namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>The segment in flight: its members and what each has reported.</summary>
public sealed record SegmentState(
    long Generation, long Cycle, long FromStep, long ToStep, ImmutableArray<string> Members,
    ImmutableDictionary<string, SegmentFinished> Finished, ImmutableDictionary<string, StepFailed> Failed,
    ImmutableHashSet<string> Lost, bool StopRequested, bool GraceStarted)
{
    /// <summary>Each member's summed compute ms and step count, over the steps measured for rebalancing.</summary>
    public ImmutableDictionary<string, (double Ms, int Steps)> ComputeCosts { get; init; } = ImmutableDictionary<string, (double Ms, int Steps)>.Empty;

    /// <summary>The rebalancing check of this segment has been made (once per segment).</summary>
    public bool BalanceChecked { get; init; }

    public static SegmentState Start(long generation, long cycle, long from, long to, IEnumerable<string> members) =>
        new(generation, cycle, from, to, members.ToImmutableArray(), ImmutableDictionary<string, SegmentFinished>.Empty,
            ImmutableDictionary<string, StepFailed>.Empty, ImmutableHashSet<string>.Empty, false, false);

    public bool Reported(string id) => Finished.ContainsKey(id) || Failed.ContainsKey(id) || Lost.Contains(id);
    public bool AllReported => Members.All(Reported);
    public bool AnyFailure => Failed.Count > 0 || Lost.Count > 0;
}
