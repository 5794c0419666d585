namespace FaceCluster.Common.Errors;

/// <summary>
/// An error the user can act on: bad input, a bad flag value, a missing or locked file.
/// The message names the file or the value. The CLI prints it without a stack trace.
/// </summary>
public class FaceClusterException : Exception
{
    public FaceClusterException(string message, int exitCode = ExitCodes.UserError, Exception? inner = null)
        : base(message, inner) => ExitCode = exitCode;

    public int ExitCode { get; }
}

/// <summary>Process exit codes used by every command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Finished, but some inputs were rejected (e.g. a scan that found unusable files).</summary>
    public const int CompletedWithRejects = 0;
    public const int UsageError = 2;
    public const int UserError = 3;
    public const int Locked = 4;
    public const int VersionMismatch = 5;
    public const int NoSpace = 6;
    public const int InternalError = 70;
    public const int Interrupted = 130;
}
