
namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>One step's loss reports while the step waits for the rest of them: dense sample indices and losses, and which worker sent which part.</summary>
internal sealed class PendingStep
{
    public long Step;
    public long Cycle;
    public int Expected;
    public int Reports;
    public long LastSeq;
    public int Count;
    public int[] Dense = new int[256];
    public float[] Loss = new float[256];
    public readonly List<(int Worker, int Offset, int Count)> Parts = new();

    public void Reset(long step, long cycle, int expected)
    {
        Step = step;
        Cycle = cycle;
        Expected = Math.Max(1, expected);
        Reports = 0;
        Count = 0;
        LastSeq = 0;
        Parts.Clear();
    }

    public void Grow(int n)
    {
        if (n <= Dense.Length) return;
        int size = Math.Max(n, Dense.Length * 2);
        Array.Resize(ref Dense, size);
        Array.Resize(ref Loss, size);
    }
}
