using OpenCvSharp;

namespace FaceCluster.Common.FaceSet;

/// <summary>
/// OpenCV prints its own warnings to stderr when a decoder meets a damaged file ("PNG input buffer is
/// incomplete"). Face-set code reports every such file through its own typed results, so OpenCV's copy
/// is noise: it is silenced once, the first time face-set code decodes an image.
/// </summary>
internal static class OpenCvLog
{
    private static int _quiet;

    public static void EnsureQuiet()
    {
        if (Interlocked.Exchange(ref _quiet, 1) == 0)
            Cv2.SetLogLevel(OpenCvSharp.LogLevel.SILENT);
    }
}
