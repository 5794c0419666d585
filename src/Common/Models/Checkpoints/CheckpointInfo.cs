namespace FaceCluster.Common.Models.Checkpoints;

/// <summary>A checkpoint folder that passed verification.</summary>
public sealed record CheckpointInfo(string Directory, CheckpointMeta Meta)
{
    public long Step => Meta.Step;
    public string File(string name) => Path.Combine(Directory, name);
}
