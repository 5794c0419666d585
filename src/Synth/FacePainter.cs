using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>
/// Draws one face of an identity (traits) in one pose and expression (variation) onto a canvas: shoulders,
/// neck, hair, ears, face, facial hair, brows, eyes, nose, mouth, glasses. All geometry is face-local (see
/// <see cref="FaceProjection"/>) so that pose, roll and crop transforms apply to every shape alike.
/// </summary>
internal sealed partial class FacePainter
{
    private readonly CanvasPen _pen;
    private readonly IdentityTraits _t;
    private readonly FaceVariation _v;
    private readonly FaceProjection _proj;
    private readonly double _w, _lower;
    private readonly Scalar _skin, _skinShadow, _hair, _hairDark, _brow;

    /// <summary>Eye line to the top of the skull, and how boxy the skull is (a dome, not an egg).</summary>
    private const double SkullHalfHeight = 0.45, SkullExponent = 2.6;

    private FacePainter(CanvasPen pen, IdentityTraits traits, FaceVariation variation)
    {
        _pen = pen;
        _t = traits;
        _v = variation;
        _w = traits.FaceHalfWidth;
        _lower = traits.LowerFaceLength;
        _proj = new FaceProjection(_w, variation);
        _skin = traits.SkinTone.ToScalar();
        _skinShadow = traits.SkinTone.Scaled(0.8);
        _hair = traits.HairColour.ToScalar();
        _hairDark = traits.HairColour.Scaled(0.72);
        // Light hair still has visibly darker brows.
        _brow = traits.HairColour.Mix(new RgbColour(30, 22, 18), traits.HairColour.Luma > 0.45 ? 0.45 : 0.15).ToScalar();
    }

    public static FaceLandmarks Paint(CanvasPen pen, IdentityTraits traits, FaceVariation variation)
        => new FacePainter(pen, traits, variation).Paint();

    private FaceLandmarks Paint()
    {
        PaintShoulders();
        PaintNeck();
        PaintHairBack();
        PaintEars();
        var outline = FaceOutline();
        PaintFaceShaded(outline);
        PaintCheeks();
        PaintFacialHair(outline);
        PaintHairFront();
        PaintBrows();
        PaintEye(-1, _v.LeftEyeOpen);
        PaintEye(+1, _v.RightEyeOpen);
        PaintNose();
        PaintMouth();
        if (_t.FacialHair is FacialHair.Moustache or FacialHair.Goatee) PaintMoustache();
        if (_t.GlassesColour is { } glasses) PaintGlasses(glasses);

        double d = _t.EyeHalfSpacing;
        return new FaceLandmarks(
            _proj.Map(-d, 0, 0), _proj.Map(d, 0, 0),
            _proj.Map(0, _t.NoseLength - 0.01, 0.05), _proj.Map(0, MouthY, 0), _proj.Map(0, _lower, 0));
    }

    private double MouthY => _t.NoseLength + 0.07;

    // ---- body, ears, outline ------------------------------------------------------------------------------

    private void PaintShoulders()
    {
        var shirt = Shapes.Ellipse(0, _lower + 0.33, _w * 2.3, 0.24);
        _pen.Fill(_proj.Map(shirt, -0.25), _v.ShirtColour.ToScalar());
        // Collar shadow where the neck meets the shirt.
        _pen.Blend(_proj.Map(Shapes.Ellipse(0, _lower + 0.13, _w * 0.75, 0.06), -0.2), _v.ShirtColour.Scaled(0.6), 0.6);
    }

    private void PaintNeck()
    {
        double nw = _w * 0.6;
        var neck = new List<Point2d> { new(-nw, _lower * 0.4), new(nw, _lower * 0.4), new(nw * 1.08, _lower + 0.2), new(-nw * 1.08, _lower + 0.2) };
        _pen.Fill(_proj.Map(neck, -0.15), _skinShadow);
        _pen.SoftBlend(_proj.Map(Shapes.Ellipse(0, _lower * 0.95, _w * 0.75, 0.07), -0.15), _t.SkinTone.Scaled(0.55), 0.6, 0.02, clip: _proj.Map(neck, -0.15));
    }

    private void PaintEars()
    {
        foreach (int side in new[] { -1, 1 })
        {
            double cx = side * _w * 0.98, cy = 0.055;
            _pen.Fill(_proj.Map(Shapes.Ellipse(cx, cy, 0.036, 0.072, side * 0.12), -0.12), _t.SkinTone.Scaled(0.92));
            _pen.Fill(_proj.Map(Shapes.Ellipse(cx + side * 0.006, cy + 0.004, 0.016, 0.045, side * 0.12), -0.12), _t.SkinTone.Scaled(0.74));
        }
    }

    /// <summary>Closed face outline: an elliptic skull above the eye line, a superellipse jaw below it.</summary>
    private List<Point2d> FaceOutline()
    {
        var points = new List<Point2d>(80);
        const int n = 40;
        double p = 2.0 / _t.ChinSquareness;
        // Lower half, right cheek (t = 0) through the chin (t = π/2) to the left cheek (t = π).
        for (int i = 0; i <= n; i++)
        {
            double t = Math.PI * i / n;
            double c = Math.Cos(t), s = Math.Sin(t);
            double y = _lower * Math.Pow(s, p);
            double taper = 1 - (1 - _t.JawWidth) * Math.Pow(y / _lower, 1.4);
            double x = _w * taper * Math.Sign(c) * Math.Pow(Math.Abs(c), p);
            points.Add(new Point2d(x, y));
        }
        // Upper half: skull, left to right over the top.
        points.AddRange(Skull(1, 1, Math.PI, 2 * Math.PI, n + 1).Skip(1).SkipLast(1));
        return points;
    }

    /// <summary>The skull outline scaled about the eye midpoint (hair is drawn on scaled copies of it).</summary>
    private List<Point2d> Skull(double scaleX, double scaleY, double t0, double t1, int n) =>
        Shapes.SuperArc(0, 0, _w * scaleX, SkullHalfHeight * scaleY, SkullExponent, t0, t1, n);

    /// <summary>The face, with a soft darker rim that reads as a rounded face.</summary>
    private void PaintFaceShaded(List<Point2d> outline)
    {
        var face = _proj.Map(outline);
        _pen.Fill(face, _skin);
        var inner = _proj.Map(outline.Select(p => new Point2d(p.X * 0.84, p.Y * 0.94 - 0.01)));
        _pen.SoftBlend(face, _t.SkinTone.Scaled(0.78), 0.6, 0.03, clip: face, hole: inner);
        _faceClip = face;
    }

    /// <summary>The projected face outline, to keep shading on the face.</summary>
    private List<Point2d>? _faceClip;

    private void PaintCheeks()
    {
        var blush = new Scalar(90, 90, 200);
        foreach (int side in new[] { -1, 1 })
            _pen.SoftBlend(_proj.Map(Shapes.Ellipse(side * (_t.EyeHalfSpacing + 0.02), 0.1, 0.045, 0.028)), blush, 0.16, 0.015, clip: _faceClip);
    }

    // ---- brows and eyes -------------------------------------------------------------------------------------

    private void PaintBrows()
    {
        double d = _t.EyeHalfSpacing, ew = _t.EyeHalfWidth, th = _t.BrowThickness;
        double baseY = -_t.BrowHeight - 0.02 * _v.BrowRaise;
        foreach (int side in new[] { -1, 1 })
        {
            double inner = side * (d - ew * 0.95), outer = side * (d + ew * 1.2);
            double tilt = (_t.BrowAngle - _v.BrowFrown) * Math.PI / 180;
            double length = Math.Abs(outer - inner);
            var upper = new List<Point2d>();
            var lower = new List<Point2d>();
            const int n = 10;
            for (int i = 0; i <= n; i++)
            {
                double u = (double)i / n;
                double x = inner + (outer - inner) * u;
                // Positive angle raises the inner end.
                double y = baseY - 0.012 * Math.Sin(Math.PI * Math.Min(1, u * 1.3)) - Math.Tan(tilt) * length * (1 - u) * 0.5;
                double half = th * (0.6 - 0.3 * u);
                upper.Add(new Point2d(x, y - half));
                lower.Add(new Point2d(x, y + half));
            }
            lower.Reverse();
            upper.AddRange(lower);
            _pen.Fill(_proj.Map(upper, 0.01), _brow);
        }
    }

    private void PaintEye(int side, double openness)
    {
        double cx = side * _t.EyeHalfSpacing, ew = _t.EyeHalfWidth;
        double eh = ew * _t.EyeRoundness * Math.Clamp(openness, 0, 1.3);
        double tilt = -side * _t.EyeTilt * Math.PI / 180;
        const int n = 16;
        Point2d At(double x, double y) { var r = Shapes.Rotate(new Point2d(x, y), tilt); return new Point2d(cx + r.X, r.Y); }
        double Upper(double u) => -eh * Math.Pow(Math.Max(0, 1 - u * u), 0.6);
        double Lower(double u) => eh * 0.72 * Math.Pow(Math.Max(0, 1 - u * u), 0.8);

        var lid = new Scalar(28, 24, 26);
        // Soft socket shadow above the eye.
        _pen.SoftBlend(_proj.Map(Shapes.Ellipse(cx, -ew * 0.3, ew * 1.1, ew * 0.5), 0.01), _skinShadow, 0.4, 0.008);
        if (openness < 0.15)
        {
            var closed = Enumerable.Range(0, n + 1).Select(i => { double u = -1 + 2.0 * i / n; return At(u * ew, 0.25 * ew * (1 - u * u)); }).ToList();
            _pen.Line(_proj.Map(closed, 0.02), lid, ew * 0.16);
            return;
        }
        var upperArc = Enumerable.Range(0, n + 1).Select(i => { double u = -1 + 2.0 * i / n; return At(u * ew, Upper(u)); }).ToList();
        var lowerArc = Enumerable.Range(0, n + 1).Select(i => { double u = 1 - 2.0 * i / n; return At(u * ew, Lower(u)); }).ToList();
        var almond = upperArc.Concat(lowerArc).ToList();
        _pen.Fill(_proj.Map(almond, 0.02), new Scalar(228, 232, 236));

        // Iris and pupil, clipped vertically to the almond (in the eye's own frame, before the tilt).
        double ri = ew * 0.47;
        double ix = _v.GazeX * ew * 0.35, iy = _v.GazeY * eh * 0.2 + eh * 0.05;
        List<Point2d> Clipped(double r)
        {
            var pts = new List<Point2d>(24);
            for (int i = 0; i < 24; i++)
            {
                double t = 2 * Math.PI * i / 24;
                double x = ix + r * Math.Cos(t), y = iy + r * Math.Sin(t);
                double u = Math.Clamp(x / ew, -1, 1);
                y = Math.Clamp(y, Upper(u), Lower(u));
                pts.Add(At(x, y));
            }
            return pts;
        }
        _pen.Fill(_proj.Map(Clipped(ri), 0.022), _t.IrisColour.ToScalar());
        _pen.Fill(_proj.Map(Clipped(ri * 0.45), 0.023), new Scalar(18, 16, 16));
        if (eh > ew * 0.25)
            _pen.Fill(_proj.Map(Shapes.Ellipse(cx + ix + ri * 0.35, iy - ri * 0.35, ri * 0.2, ri * 0.2, 0, 10), 0.024), new Scalar(250, 250, 250));

        _pen.Line(_proj.Map(upperArc, 0.025), lid, ew * 0.17);
        _pen.Line(_proj.Map(lowerArc, 0.02), _t.SkinTone.Scaled(0.7), ew * 0.06);
    }

    // ---- nose and mouth -----------------------------------------------------------------------------------

    private void PaintNose()
    {
        double nl = _t.NoseLength, nw = _t.NoseHalfWidth;
        var shade = _t.SkinTone.Scaled(0.78);
        // Bridge shadow on one side, ala (wing) arcs, nostrils, a highlight on the tip.
        _pen.SoftBlend(_proj.Map(new List<Point2d> { new(-0.014, 0.02), new(-0.004, 0.02), new(-0.008, nl - 0.03), new(-0.026, nl - 0.03) }, 0.03), shade, 0.5, 0.006);
        foreach (int side in new[] { -1, 1 })
        {
            // The wing is a C around the outer side of the nostril.
            var wing = side > 0
                ? Shapes.Arc(nw * 0.72, nl - 0.012, nw * 0.4, 0.016, -Math.PI * 0.45, Math.PI * 0.55, 10)
                : Shapes.Arc(-nw * 0.72, nl - 0.012, nw * 0.4, 0.016, Math.PI * 0.45, Math.PI * 1.45, 10);
            _pen.Line(_proj.Map(wing, 0.035), shade, 0.006);
            _pen.Fill(_proj.Map(Shapes.Ellipse(side * nw * 0.5, nl - 0.002, nw * 0.24, nw * 0.13, side * 0.3, 14), 0.04), _t.SkinTone.Scaled(0.42));
        }
        _pen.Line(_proj.Map(Shapes.Arc(0, nl - 0.025, nw * 0.45, 0.02, Math.PI * 0.25, Math.PI * 0.75, 8), 0.05), shade, 0.005);
        _pen.SoftBlend(_proj.Map(Shapes.Ellipse(0.004, nl - 0.03, nw * 0.32, 0.014, 0, 14), 0.06), _t.SkinTone.Mix(new RgbColour(255, 255, 255), 0.45).ToScalar(), 0.4, 0.005);
    }

    private void PaintMouth()
    {
        double my = MouthY, lt = _t.LipThickness;
        double mw = _t.MouthHalfWidth * (1 + 0.12 * _v.Smile);
        double lift = 0.024 * _v.Smile;
        double open = 0.055 * _v.MouthOpen;
        const int n = 16;
        double Line(double u) => my - lift * u * u + open * 0.25;
        double Shape(double u) => Math.Pow(Math.Max(0, 1 - u * u), 0.6);
        var upper = new List<Point2d>();
        var lower = new List<Point2d>();
        var innerTop = new List<Point2d>();
        var innerBottom = new List<Point2d>();
        for (int i = 0; i <= n; i++)
        {
            double u = -1 + 2.0 * i / n, x = u * mw;
            double cupid = 1 - 0.35 * Math.Exp(-(u / 0.22) * (u / 0.22));
            upper.Add(new Point2d(x, Line(u) - open * 0.5 * Shape(u) - lt * Shape(u) * cupid));
            innerTop.Add(new Point2d(x, Line(u) - open * 0.5 * Shape(u)));
            innerBottom.Add(new Point2d(x, Line(u) + open * 0.5 * Shape(u)));
            lower.Add(new Point2d(x, Line(u) + open * 0.5 * Shape(u) + lt * 1.3 * Shape(u)));
        }
        var lipColour = _t.LipColour;
        if (open > 0.004)
        {
            var cavity = innerTop.Concat(Enumerable.Reverse(innerBottom)).ToList();
            _pen.Fill(_proj.Map(cavity, 0.03), new Scalar(40, 30, 70));
            // Upper teeth.
            var teeth = innerTop.Select(p => p).Concat(innerTop.AsEnumerable().Reverse().Select(p => new Point2d(p.X * 0.92, p.Y + Math.Min(open * 0.4, 0.016)))).ToList();
            _pen.Fill(_proj.Map(teeth, 0.031), new Scalar(225, 235, 240));
        }
        _pen.Fill(_proj.Map(upper.Concat(Enumerable.Reverse(innerTop)).ToList(), 0.03), lipColour.Scaled(0.86));
        _pen.Fill(_proj.Map(lower.Concat(Enumerable.Reverse(innerBottom)).ToList(), 0.03), lipColour.ToScalar());
        if (open <= 0.004)
            _pen.Line(_proj.Map(innerTop, 0.031), lipColour.Scaled(0.45), 0.005);
        // Lower-lip highlight.
        _pen.SoftBlend(_proj.Map(Shapes.Ellipse(0, Line(0) + open * 0.5 + lt * 0.6, mw * 0.35, lt * 0.3, 0, 14), 0.032), lipColour.Mix(new RgbColour(255, 255, 255), 0.4).ToScalar(), 0.35, 0.004);
    }

    private void PaintGlasses(RgbColour colour)
    {
        var frame = colour.ToScalar();
        double d = _t.EyeHalfSpacing, ew = _t.EyeHalfWidth;
        double hx = ew * 1.5, hy = ew * 1.12, th = 0.009;
        foreach (int side in new[] { -1, 1 })
        {
            double cx = side * d;
            var lens = Shapes.SuperEllipse(cx, 0.004, hx, hy, 3.6);
            _pen.Blend(_proj.Map(lens, 0.06), new Scalar(250, 245, 235), 0.12);
            _pen.Line(_proj.Map(lens, 0.06), frame, th, closed: true);
            _pen.Line(_proj.Map(new List<Point2d> { new(cx + side * hx, -0.006), new(side * _w * 0.99, -0.012) }, 0.03), frame, th * 0.8);
        }
        var bridge = Shapes.Arc(0, 0.0, d - hx, 0.012, Math.PI * 1.15, Math.PI * 1.85, 8);
        _pen.Line(_proj.Map(bridge, 0.07), frame, th);
    }
}
