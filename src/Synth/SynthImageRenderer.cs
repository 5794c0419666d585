using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>
/// Draws one image of a synthetic face set at a supersampled resolution, scales it down with area averaging,
/// and applies camera effects. Everything random comes from the request's own seed, so an image does not
/// depend on which thread draws it or in which order.
/// </summary>
internal static class SynthImageRenderer
{
    /// <summary>The canvas is at least 256 px and at least twice the output size.</summary>
    public static int CanvasSide(int size) => size * Math.Max(2, (256 + size - 1) / size);

    /// <summary>Returns the 8-bit BGR image of <paramref name="size"/>² pixels and a note on what was done (null for good images).</summary>
    public static Mat Render(SynthImageRequest request, IReadOnlyList<IdentityTraits> identities, int size, out string? detail)
    {
        var rng = new Random(request.Seed);
        var traits = identities[request.DrawnIdentity];
        int side = CanvasSide(size);
        using var canvas = new Mat(side, side, MatType.CV_8UC3);
        switch (request.Kind)
        {
            case SynthKind.Good:
            case SynthKind.WrongIdentity:
            {
                detail = null;
                var v = FaceVariation.SampleGood(rng);
                return DrawFace(canvas, traits, v, size, rng);
            }
            case SynthKind.Hard:
            {
                var v = FaceVariation.SampleHard(rng, out string what);
                detail = what;
                return DrawFace(canvas, traits, v, size, rng);
            }
            case SynthKind.Misaligned:
            {
                var v = FaceVariation.SampleGood(rng);
                switch (rng.Next(3))
                {
                    case 0:
                        double rotation = rng.SignedUniform(25, 60);
                        v = v with { CropRotation = rotation };
                        detail = $"bad crop: rotated {rotation:0}°";
                        break;
                    case 1:
                        double shift = rng.Uniform(0.2, 0.35), direction = rng.Uniform(0, 2 * Math.PI);
                        v = v with { CropShiftX = shift * Math.Cos(direction), CropShiftY = shift * Math.Sin(direction) };
                        detail = $"bad crop: shifted {shift * 100:0}% of the size towards {direction * 180 / Math.PI:0}°";
                        break;
                    default:
                        double scale = rng.Next(2) == 0 ? 0.5 : 1.7;
                        v = v with { CropScale = scale };
                        detail = $"bad crop: scaled {scale:0.0}×";
                        break;
                }
                return DrawFace(canvas, traits, v, size, rng);
            }
            case SynthKind.Occluded:
            {
                var v = FaceVariation.SampleGood(rng);
                BackgroundPainter.Paint(canvas, rng);
                var landmarks = FacePainter.Paint(new CanvasPen(canvas), traits, v);
                detail = OccluderPainter.Paint(canvas, landmarks, rng);
                return Finish(canvas, v, size, rng);
            }
            case SynthKind.NotAFace:
            {
                detail = "not a face: " + PatternPainter.Paint(canvas, rng);
                var v = new FaceVariation { NoiseSigma = rng.Uniform(1, 3), Brightness = rng.Uniform(0.9, 1.1), LightStrength = rng.Uniform(0, 0.2), LightAngle = rng.Uniform(0, 360) };
                return Finish(canvas, v, size, rng);
            }
            case SynthKind.BlankOrOverexposed:
                return Blank(canvas, traits, size, rng, out detail);
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.Kind, "unknown synth kind");
        }
    }

    private static Mat DrawFace(Mat canvas, IdentityTraits traits, FaceVariation v, int size, Random rng)
    {
        BackgroundPainter.Paint(canvas, rng);
        FacePainter.Paint(new CanvasPen(canvas), traits, v);
        return Finish(canvas, v, size, rng);
    }

    private static Mat Blank(Mat canvas, IdentityTraits traits, int size, Random rng, out string detail)
    {
        if (rng.Next(2) == 0)
        {
            Scalar colour;
            switch (rng.Next(3))
            {
                case 0:
                    colour = Scalar.All(rng.Uniform(0, 28));
                    detail = "blank: almost black";
                    break;
                case 1:
                    colour = Scalar.All(rng.Uniform(228, 255));
                    detail = "blank: almost white";
                    break;
                default:
                    colour = new Scalar(rng.Uniform(40, 220), rng.Uniform(40, 220), rng.Uniform(40, 220));
                    detail = "blank: flat colour";
                    break;
            }
            canvas.SetTo(colour);
            var flat = new FaceVariation { NoiseSigma = rng.Uniform(0.5, 2), LightStrength = rng.Uniform(0, 0.06), LightAngle = rng.Uniform(0, 360) };
            return Finish(canvas, flat, size, rng);
        }
        var v = FaceVariation.SampleGood(rng);
        BackgroundPainter.Paint(canvas, rng);
        FacePainter.Paint(new CanvasPen(canvas), traits, v);
        double gain = rng.Uniform(2.8, 4.0), offset = rng.Uniform(110, 170);
        detail = $"overexposed: face blown out to near white (gain {gain:0.0})";
        return Finish(canvas, v with { NoiseSigma = rng.Uniform(0.5, 2) }, size, rng, gain, offset);
    }

    private static Mat Finish(Mat canvas, FaceVariation v, int size, Random rng, double gain = 1, double offset = 0)
    {
        using var small = new Mat();
        Cv2.Resize(canvas, small, new Size(size, size), 0, 0, InterpolationFlags.Area);
        return PostProcessor.Finish(small, v, rng, gain, offset);
    }
}
