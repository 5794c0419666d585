using OpenCvSharp;

namespace FaceCluster.Synth.Planting;

/// <summary>
/// Makes one planted bad face from a real one, in several variants per kind. Pure over its inputs: the same image,
/// face box and random state give the same result. Every method returns a new image of the source's size and a
/// detail for the truth file ("hand over the mouth").
/// </summary>
public static class BadFaceMaker
{
    /// <summary>How many variants each kind has; a caller cycles through them (variant i mod count).</summary>
    public static class Variants
    {
        public const int Misaligned = 5, Occluded = 4, NotAFace = 3, BlankOrOverexposed = 4;
    }

    /// <summary>Misaligned: rotated, upside down, shifted, badly cropped or turned on its side.</summary>
    public static Mat Misaligned(Mat face, Rect box, int variant, Random rng, out string detail)
    {
        var size = face.Size();
        var centre = new Point2f(size.Width / 2f, size.Height / 2f);
        var result = new Mat();
        switch (Math.Abs(variant % Variants.Misaligned))
        {
            case 0:
            {
                double angle = (rng.Next(2) == 0 ? -1 : 1) * (30 + rng.NextDouble() * 40);
                using var m = Cv2.GetRotationMatrix2D(centre, angle, 1.0);
                Cv2.WarpAffine(face, result, m, size, InterpolationFlags.Linear, BorderTypes.Replicate);
                detail = string.Create(CultureInfo.InvariantCulture, $"rotated {angle:0}°");
                break;
            }
            case 1:
                Cv2.Flip(face, result, FlipMode.X);
                detail = "upside down";
                break;
            case 2:
            {
                double dx = (rng.Next(2) == 0 ? -1 : 1) * (0.3 + rng.NextDouble() * 0.15) * box.Width;
                double dy = (rng.Next(2) == 0 ? -1 : 1) * (0.3 + rng.NextDouble() * 0.15) * box.Height;
                using var m = new Mat(2, 3, MatType.CV_64FC1);
                m.Set(0, 0, 1.0); m.Set(0, 1, 0.0); m.Set(0, 2, dx);
                m.Set(1, 0, 0.0); m.Set(1, 1, 1.0); m.Set(1, 2, dy);
                Cv2.WarpAffine(face, result, m, size, InterpolationFlags.Linear, BorderTypes.Replicate);
                detail = string.Create(CultureInfo.InvariantCulture, $"shifted by {dx / box.Width:+0%;-0%} of the face's width and {dy / box.Height:+0%;-0%} of its height");
                break;
            }
            case 3:
            {
                // A crop that holds a corner of the face (an eye and the hair, or the chin and the collar), scaled up.
                double frac = 0.45 + rng.NextDouble() * 0.15;
                int w = Math.Max(2, (int)(box.Width * frac)), h = Math.Max(2, (int)(box.Height * frac));
                bool right = rng.Next(2) == 0, bottom = rng.Next(2) == 0;
                int x = right ? box.X + box.Width - w / 3 : box.X - w * 2 / 3;
                int y = bottom ? box.Y + box.Height - h / 3 : box.Y - h * 2 / 3;
                var crop = Clamp(new Rect(x, y, w, h), size);
                using var part = new Mat(face, crop);
                Cv2.Resize(part, result, size, 0, 0, InterpolationFlags.Linear);
                detail = $"badly cropped ({(bottom ? "lower" : "upper")} {(right ? "right" : "left")} corner of the face)";
                break;
            }
            default:
            {
                bool clockwise = rng.Next(2) == 0;
                using var turned = new Mat();
                Cv2.Rotate(face, turned, clockwise ? RotateFlags.Rotate90Clockwise : RotateFlags.Rotate90Counterclockwise);
                Cv2.Resize(turned, result, size, 0, 0, InterpolationFlags.Linear);
                detail = clockwise ? "on its side (90° clockwise)" : "on its side (90° anticlockwise)";
                break;
            }
        }
        return result;
    }

    /// <summary>Occluded: a bar, a hand, a mask or a patch over the eyes, the nose or the mouth.</summary>
    public static Mat Occluded(Mat face, Rect box, int variant, Random rng, out string detail)
    {
        var result = face.Clone();
        string[] regions = ["eyes", "nose", "mouth"];
        string region = regions[rng.Next(regions.Length)];
        // Bands of the face box: eyes at 22–50% of its height, nose 40–72%, mouth 62–95%.
        (double top, double bottom) = region switch { "eyes" => (0.22, 0.50), "nose" => (0.40, 0.72), _ => (0.62, 0.95) };
        int y0 = box.Y + (int)(top * box.Height), y1 = box.Y + (int)(bottom * box.Height);
        int cx = box.X + box.Width / 2, cy = (y0 + y1) / 2;
        switch (Math.Abs(variant % Variants.Occluded))
        {
            case 0:
            {
                var colour = rng.Next(3) switch { 0 => Scalar.All(0), 1 => Scalar.All(20 + rng.Next(200)), _ => RandomColour(rng) };
                int pad = (int)(box.Width * 0.1);
                Cv2.Rectangle(result, new Point(box.X - pad, y0), new Point(box.X + box.Width + pad, y1), colour, -1, LineTypes.AntiAlias);
                detail = $"bar over the {region}";
                break;
            }
            case 1:
            {
                var skin = SkinTone(rng);
                int palmW = (int)(box.Width * 0.38), palmH = (int)((y1 - y0) * 0.75) + 2;
                int px = cx + (int)((rng.NextDouble() - 0.5) * box.Width * 0.2);
                Cv2.Ellipse(result, new Point(px, cy), new Size(palmW, palmH), 0, 0, 360, skin, -1, LineTypes.AntiAlias);
                // Four fingers reaching up and across, a thumb below.
                for (int f = 0; f < 4; f++)
                {
                    int fx = px - palmW + (f * 2 + 1) * palmW / 4;
                    Cv2.Ellipse(result, new Point(fx, cy - palmH), new Size(Math.Max(2, palmW / 5), palmH), 0, 0, 360, Scale(skin, 0.95), -1, LineTypes.AntiAlias);
                }
                Cv2.Ellipse(result, new Point(px + palmW, cy + palmH / 2), new Size(palmW / 2, Math.Max(2, palmH / 3)), 30, 0, 360, Scale(skin, 0.9), -1, LineTypes.AntiAlias);
                detail = $"hand over the {region}";
                break;
            }
            case 2:
            {
                // A face mask from the bridge of the nose to the chin, whatever band was drawn.
                int mTop = box.Y + (int)(0.45 * box.Height), mBottom = box.Y + (int)(1.02 * box.Height);
                int half = (int)(box.Width * 0.45);
                var colour = rng.Next(3) switch { 0 => new Scalar(230, 200, 160), 1 => Scalar.All(240), _ => Scalar.All(30) };
                Point[] shape = [new(cx - half, mTop + (mBottom - mTop) / 6), new(cx, mTop), new(cx + half, mTop + (mBottom - mTop) / 6),
                                 new(cx + half * 4 / 5, mBottom), new(cx - half * 4 / 5, mBottom)];
                Cv2.FillPoly(result, [shape], colour, LineTypes.AntiAlias);
                Cv2.Line(result, shape[0], new Point(box.X - box.Width / 10, box.Y + box.Height * 2 / 5), Scale(colour, 0.8), Math.Max(1, box.Width / 30), LineTypes.AntiAlias);
                Cv2.Line(result, shape[2], new Point(box.X + box.Width * 11 / 10, box.Y + box.Height * 2 / 5), Scale(colour, 0.8), Math.Max(1, box.Width / 30), LineTypes.AntiAlias);
                detail = "mask over the nose and mouth";
                region = "nose and mouth";
                break;
            }
            default:
            {
                // A patch of noise (a sticker, a scarf's pattern) over the band.
                int pad = (int)(box.Width * 0.05);
                var rect = Clamp(new Rect(box.X - pad, y0, box.Width + 2 * pad, Math.Max(2, y1 - y0)), face.Size());
                using var noise = Noise(rect.Size, face.Type(), rng);
                Cv2.GaussianBlur(noise, noise, new Size(3, 3), 0);
                noise.CopyTo(new Mat(result, rect));
                detail = $"patterned patch over the {region}";
                break;
            }
        }
        return result;
    }

    /// <summary>Not a face: a texture, a still life of objects, or a crop of the background beside the face.</summary>
    public static Mat NotAFace(Mat face, Rect box, int variant, Random rng, out string detail)
    {
        var size = face.Size();
        var result = new Mat(size, face.Type());
        switch (Math.Abs(variant % Variants.NotAFace))
        {
            case 0:
            {
                using var coarse = Noise(new Size(Math.Max(2, size.Width / 8), Math.Max(2, size.Height / 8)), face.Type(), rng);
                Cv2.Resize(coarse, result, size, 0, 0, InterpolationFlags.Cubic);
                int stripes = 3 + rng.Next(8);
                var colour = RandomColour(rng);
                for (int i = 0; i < stripes; i++)
                {
                    int x = i * size.Width / stripes;
                    Cv2.Line(result, new Point(x, 0), new Point(x + size.Width / 3, size.Height), colour, Math.Max(1, size.Width / 24), LineTypes.AntiAlias);
                }
                detail = "texture (noise and stripes)";
                break;
            }
            case 1:
            {
                result.SetTo(Scale(RandomColour(rng), 0.6));
                int objects = 2 + rng.Next(4);
                for (int i = 0; i < objects; i++)
                {
                    var c = new Point(rng.Next(size.Width), rng.Next(size.Height));
                    int r = Math.Max(2, size.Width / 8 + rng.Next(Math.Max(1, size.Width / 4)));
                    if (rng.Next(2) == 0) Cv2.Circle(result, c, r, RandomColour(rng), -1, LineTypes.AntiAlias);
                    else Cv2.Rectangle(result, new Rect(c.X - r, c.Y - r / 2, 2 * r, r), RandomColour(rng), -1, LineTypes.AntiAlias);
                }
                detail = string.Create(CultureInfo.InvariantCulture, $"objects ({objects} shapes on a plain ground)");
                break;
            }
            default:
            {
                // The largest strip beside the face box (left, right, above or below), scaled to the image.
                Rect[] strips = [new(0, 0, box.X, size.Height), new(box.X + box.Width, 0, size.Width - box.X - box.Width, size.Height),
                                 new(0, 0, size.Width, box.Y), new(0, box.Y + box.Height, size.Width, size.Height - box.Y - box.Height)];
                var strip = strips.MaxBy(r => Math.Max(0, r.Width) * Math.Max(0, r.Height));
                if (strip.Width < 4 || strip.Height < 4)
                {
                    // A tight crop has no background: a corner of it, heavily enlarged, holds no face either.
                    strip = new Rect(0, 0, Math.Max(2, size.Width / 4), Math.Max(2, size.Height / 4));
                }
                var crop = Clamp(strip, size);
                using var part = new Mat(face, crop);
                Cv2.Resize(part, result, size, 0, 0, InterpolationFlags.Linear);
                detail = "background crop";
                break;
            }
        }
        return result;
    }

    /// <summary>Blank or over-exposed: one flat level, near black, or the face burnt out.</summary>
    public static Mat BlankOrOverexposed(Mat face, int variant, Random rng, out string detail)
    {
        var result = new Mat(face.Size(), face.Type());
        switch (Math.Abs(variant % Variants.BlankOrOverexposed))
        {
            case 0:
            {
                int level = 40 + rng.Next(176);
                result.SetTo(Scalar.All(level));
                detail = string.Create(CultureInfo.InvariantCulture, $"blank (grey level {level})");
                break;
            }
            case 1:
                result.SetTo(Scalar.All(rng.Next(12)));
                detail = "black frame";
                break;
            case 2:
            {
                double gain = 3 + rng.NextDouble() * 3;
                face.ConvertTo(result, face.Type(), gain, 60);
                detail = string.Create(CultureInfo.InvariantCulture, $"over-exposed (gain ×{gain:0.0})");
                break;
            }
            default:
            {
                using var white = new Mat(face.Size(), face.Type(), Scalar.All(255));
                Cv2.AddWeighted(face, 0.12, white, 0.88, 0, result);
                detail = "washed out (88% white)";
                break;
            }
        }
        return result;
    }

    private static Rect Clamp(Rect r, Size size)
    {
        int x = Math.Clamp(r.X, 0, size.Width - 1), y = Math.Clamp(r.Y, 0, size.Height - 1);
        int w = Math.Clamp(r.Width, 1, size.Width - x), h = Math.Clamp(r.Height, 1, size.Height - y);
        return new Rect(x, y, w, h);
    }

    /// <summary>Uniform noise from the caller's random state (OpenCV's Randu draws from a process-wide state, which would make a copy depend on what ran before).</summary>
    private static Mat Noise(Size size, MatType type, Random rng)
    {
        var bytes = new byte[size.Width * size.Height * type.Channels];
        rng.NextBytes(bytes);
        var mat = new Mat(size, type);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, mat.Data, bytes.Length);
        return mat;
    }

    private static Scalar Scale(Scalar c, double f) => new(c.Val0 * f, c.Val1 * f, c.Val2 * f, c.Val3);

    private static Scalar RandomColour(Random rng) => new(rng.Next(256), rng.Next(256), rng.Next(256));

    private static Scalar SkinTone(Random rng)
    {
        // BGR skin tones from dark to light.
        double t = rng.NextDouble();
        return new Scalar(60 + 120 * t, 80 + 120 * t, 110 + 120 * t);
    }
}
