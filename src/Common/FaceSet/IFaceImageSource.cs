namespace FaceCluster.Common.FaceSet;

/// <summary>
/// Where image bytes come from: the local face-set folder, or (later) a coordinator over HTTP.
/// Implementations are called from several threads at once. Failures throw <see cref="IOException"/>
/// (or <see cref="UnauthorizedAccessException"/>); the batch pipeline reports them as bad samples.
/// </summary>
public interface IFaceImageSource
{
    byte[] ReadBytes(FaceSample sample);
}
