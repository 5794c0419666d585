namespace FaceCluster.Tests.Support;

/// <summary>The real face sets committed under tests/data (see tests/data/README.md for their source and terms).</summary>
internal static class RealFaceSets
{
    /// <summary>CMU Face Images: 20 people, greyscale, loose crops, 13–16 images each.</summary>
    public static string Cmu => Path.Combine(DataRoot(), "cmu-faces");

    /// <summary>LFWcrop: 32 people, colour, tight crops, 8 images each.</summary>
    public static string LfwCrop => Path.Combine(DataRoot(), "lfwcrop");

    /// <summary>OpenCV's Haar cascades (Debian's opencv-data), where installed.</summary>
    public static bool HaarCascadesInstalled => File.Exists(Path.Combine(Common.FaceSet.FaceCheck.FaceStructureChecker.DefaultCascadeDir, "haarcascade_frontalface_default.xml"));

    private static string DataRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string data = Path.Combine(dir.FullName, "tests", "data");
            if (File.Exists(Path.Combine(dir.FullName, "FaceCluster.sln")) && Directory.Exists(data)) return data;
        }
        throw new InvalidOperationException($"no tests/data folder above {AppContext.BaseDirectory}");
    }
}
