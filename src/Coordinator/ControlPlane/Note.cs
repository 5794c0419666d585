namespace FaceCluster.Coordinator.ControlPlane;

/// <summary>Something a decision wants logged, or shown to the operator (<see cref="ICoordinatorObserver.Message"/>); the actor does it.</summary>
public sealed record Note(NoteKind Kind, string Text)
{
    public static Note Info(string text) => new(NoteKind.Info, text);
    public static Note Warning(string text) => new(NoteKind.Warning, text);
    public static Note Error(string text) => new(NoteKind.Error, text);
    public static Note Show(string text) => new(NoteKind.Show, text);
}

public enum NoteKind
{
    Info,
    Warning,
    Error,
    /// <summary>For the operator's display.</summary>
    Show,
}
