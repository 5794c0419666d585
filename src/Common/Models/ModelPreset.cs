
namespace FaceCluster.Common.Models;

/// <summary>
/// The size of a model: input resolution and layer widths. One preset applies to every model family;
/// each family reads what it needs.
/// </summary>
/// <param name="Name">tiny | original | large</param>
/// <param name="ImageSize">Square input size in pixels.</param>
/// <param name="EncoderChannels">Output channels of each stride-2 convolution of the encoder.</param>
/// <param name="Latent">Width of the encoder's bottleneck (dense) layer.</param>
/// <param name="BottleneckChannels">Channels of the spatial code the encoder hands to the decoders (before the encoder's upscale).</param>
/// <param name="DecoderChannels">Output channels of each upscale block of a decoder.</param>
public sealed record ModelPreset(
    string Name,
    int ImageSize,
    int[] EncoderChannels,
    int Latent,
    int BottleneckChannels,
    int[] DecoderChannels)
{
    /// <summary>32 px: for tests and CPU demos (about a million parameters with two identities).</summary>
    public static readonly ModelPreset Tiny = new("tiny", 32, [32, 64, 128], 128, 128, [64, 32]);

    /// <summary>64 px: about the capacity of faceswap's "original" model (128-256-512-1024 encoder, 1024 latent).</summary>
    public static readonly ModelPreset Original = new("original", 64, [128, 256, 512, 1024], 1024, 1024, [256, 128, 64]);

    /// <summary>128 px: the "original" layout one level deeper.</summary>
    public static readonly ModelPreset Large = new("large", 128, [128, 256, 512, 1024, 1024], 1024, 1024, [512, 256, 128, 64]);

    public static IReadOnlyList<ModelPreset> All { get; } = [Tiny, Original, Large];

    /// <summary>Spatial size of the encoder's output before its upscale: ImageSize / 2^(number of encoder convolutions).</summary>
    public int BottleneckSize => ImageSize >> EncoderChannels.Length;

    public static ModelPreset Parse(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new FaceClusterException($"unknown preset '{name}': use one of {string.Join(", ", All.Select(p => p.Name))}", ExitCodes.UsageError);

    public bool Equals(ModelPreset? other) =>
        other is not null && Name == other.Name && ImageSize == other.ImageSize && Latent == other.Latent &&
        BottleneckChannels == other.BottleneckChannels &&
        EncoderChannels.SequenceEqual(other.EncoderChannels) && DecoderChannels.SequenceEqual(other.DecoderChannels);

    public override int GetHashCode() => HashCode.Combine(Name, ImageSize, Latent, BottleneckChannels);

    public override string ToString() => $"{Name} ({ImageSize}px)";
}
