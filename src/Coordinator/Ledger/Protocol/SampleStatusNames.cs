
namespace FaceCluster.Coordinator.Ledger.Protocol;

/// <summary>The names of <see cref="SampleStatus"/> used in messages, the CLI and the HTTP API.</summary>
public static class SampleStatusNames
{
    private static readonly string[] Names = ["active", "refed", "flagged", "awaiting-review", "quarantined", "restored"];

    public static IReadOnlyList<string> All => Names;

    public static string ToName(this SampleStatus status) =>
        (int)status < Names.Length ? Names[(int)status] : throw new ArgumentOutOfRangeException(nameof(status), status, "unknown sample status");

    public static bool TryParse(string name, out SampleStatus status)
    {
        int index = Array.IndexOf(Names, name.Trim().ToLowerInvariant());
        status = index < 0 ? SampleStatus.Active : (SampleStatus)index;
        return index >= 0;
    }
}
