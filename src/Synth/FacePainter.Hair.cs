using OpenCvSharp;

namespace FaceCluster.Synth;

/// <summary>The face's hair: behind the head, the fringe and hairline in front, and beards and moustaches.</summary>
internal sealed partial class FacePainter
{
    // ---- hair ------------------------------------------------------------------------------------------------

    private void PaintHairBack()
    {
        switch (_t.HairStyle)
        {
            case HairStyle.LongSides:
            {
                var back = Skull(1.18, 1.22, Math.PI, 2 * Math.PI, 28);
                back.AddRange([new(_w * 1.26, 0.2), new(_w * 1.3, _lower * 1.05), new(_w * 0.9, _lower * 1.12), new(0, _lower * 1.05),
                               new(-_w * 0.9, _lower * 1.12), new(-_w * 1.3, _lower * 1.05), new(-_w * 1.26, 0.2)]);
                _pen.Fill(_proj.Map(back, -0.2), _hairDark);
                break;
            }
            case HairStyle.Curly:
            {
                // A bumpy mass: a dome plus overlapping curls along its edge, with lighter and darker curls inside.
                var rng = new Random(_t.DetailSeed);
                var mass = Skull(1.2, 1.2, Math.PI - 0.3, 2 * Math.PI + 0.3, 40);
                mass.AddRange([new(_w * 1.1, 0.14), new(-_w * 1.1, 0.14)]);
                _pen.Fill(_proj.Map(mass, -0.1), _hair);
                var edge = Skull(1.22, 1.2, Math.PI - 0.3, 2 * Math.PI + 0.3, 24);
                foreach (var p in edge)
                {
                    double r = rng.Uniform(0.045, 0.065);
                    _pen.Fill(_proj.Map(Shapes.Ellipse(p.X, p.Y, r, r, 0, 18), -0.1), _hair);
                }
                var light = _t.HairColour.Mix(new RgbColour(255, 255, 255), 0.1).ToScalar();
                for (int i = 0; i < 70; i++)
                {
                    double t = rng.Uniform(Math.PI - 0.3, 2 * Math.PI + 0.3), rad = rng.Uniform(0.9, 1.22);
                    var p = Skull(rad, rad, t, t, 1)[0];
                    double r = rng.Uniform(0.012, 0.022);
                    _pen.Fill(_proj.Map(Shapes.Ellipse(p.X, p.Y, r, r, 0, 12), -0.1), i % 3 == 0 ? light : _t.HairColour.Scaled(0.84));
                }
                break;
            }
        }
    }

    private void PaintHairFront()
    {
        double fh = _t.ForeheadHeight, w = _w;
        switch (_t.HairStyle)
        {
            case HairStyle.ShortCap:
            {
                var cap = Skull(1.07, 1.16, Math.PI + 0.1, 2 * Math.PI - 0.1, 30);
                cap.Add(new(w * 0.97, -0.04));
                cap.AddRange(Hairline(w * 0.92, fh, 0.35));
                cap.Add(new(-w * 0.97, -0.04));
                FillHair(cap);
                break;
            }
            case HairStyle.Fringe:
            {
                var cap = Skull(1.09, 1.18, Math.PI + 0.05, 2 * Math.PI - 0.05, 30);
                cap.Add(new(w * 1.02, -0.01));
                double edge = -(_t.BrowHeight + 0.014);
                const int teeth = 11;
                for (int i = 0; i <= teeth; i++)
                {
                    double u = 1 - 2.0 * i / teeth;
                    double y = edge - 0.012 * (1 - u * u) + (i % 2 == 0 ? 0.01 : -0.006);
                    cap.Add(new(u * w * 0.96, y));
                }
                cap.Add(new(-w * 1.02, -0.01));
                FillHair(cap);
                break;
            }
            case HairStyle.SidePart:
            {
                int side = new Random(_t.DetailSeed).Next(2) == 0 ? -1 : 1;
                var cap = Skull(1.1, 1.25, Math.PI + 0.1, 2 * Math.PI - 0.1, 30);
                var front = new List<Point2d>
                {
                    new(w * 0.97, -0.04), new(w * 0.8, -fh * 0.9), new(w * 0.5, -fh - 0.025), new(w * 0.33, -fh - 0.035),
                    new(w * 0.1, -fh * 0.92), new(-w * 0.3, -fh * 0.72), new(-w * 0.65, -fh * 0.52), new(-w * 0.9, -fh * 0.35), new(-w * 1.0, -0.03),
                };
                // The arc runs left to right over the top, so the hairline must run right to left.
                var hairline = front.Select(p => new Point2d(p.X * side, p.Y)).ToList();
                if (side < 0) hairline.Reverse();
                cap.AddRange(hairline);
                FillHair(cap);
                break;
            }
            case HairStyle.LongSides:
            {
                var cap = Skull(1.1, 1.18, Math.PI + 0.05, 2 * Math.PI - 0.05, 30);
                cap.AddRange([new(w * 1.12, 0.15), new(w * 1.1, 0.32), new(w * 0.9, 0.24), new(w * 0.83, 0.02), new(w * 0.72, -fh * 0.7),
                              new(w * 0.35, -fh * 1.02), new(w * 0.03, -fh * 1.12), new(-w * 0.03, -fh * 1.12), new(-w * 0.35, -fh * 1.02),
                              new(-w * 0.72, -fh * 0.7), new(-w * 0.83, 0.02), new(-w * 0.9, 0.24), new(-w * 1.1, 0.32), new(-w * 1.12, 0.15)]);
                FillHair(cap);
                break;
            }
            case HairStyle.Curly:
            {
                var rng = new Random(_t.DetailSeed + 1);
                var cap = Skull(1.1, 1.18, Math.PI + 0.1, 2 * Math.PI - 0.1, 30);
                cap.Add(new(w * 0.97, -0.05));
                cap.AddRange(Hairline(w * 0.9, fh * 0.95, 0.4));
                cap.Add(new(-w * 0.97, -0.05));
                _pen.Fill(_proj.Map(cap), _hair);
                foreach (var p in Hairline(w * 0.9, fh * 0.95, 0.4))
                {
                    double r = rng.Uniform(0.02, 0.03);
                    _pen.Fill(_proj.Map(Shapes.Ellipse(p.X, p.Y, r, r, 0, 16)), _hair);
                }
                var light = _t.HairColour.Mix(new RgbColour(255, 255, 255), 0.1).ToScalar();
                for (int i = 0; i < 30; i++)
                {
                    double x = rng.Uniform(-0.8, 0.8) * w, y = -fh - rng.Uniform(0.02, 0.25);
                    double r = rng.Uniform(0.012, 0.02);
                    _pen.Fill(_proj.Map(Shapes.Ellipse(x, y, r, r, 0, 12)), i % 3 == 0 ? light : _t.HairColour.Scaled(0.84));
                }
                break;
            }
            case HairStyle.Buzz:
            {
                var cap = Skull(1.02, 1.03, Math.PI + 0.15, 2 * Math.PI - 0.15, 30);
                cap.Add(new(w * 0.97, -0.06));
                cap.AddRange(Hairline(w * 0.92, fh * 0.97, 0.3));
                cap.Add(new(-w * 0.97, -0.06));
                _pen.Blend(_proj.Map(cap), _hair, 0.62);
                break;
            }
            case HairStyle.Bald:
            {
                // Short hair above and behind the ears, following the head outline.
                foreach (int side in new[] { -1, 1 })
                {
                    var outer = Skull(1.04, 1.04, side > 0 ? -0.45 : Math.PI + 0.45, side > 0 ? 0.08 : Math.PI - 0.08, 8);
                    var inner = Skull(0.95, 0.95, side > 0 ? 0.06 : Math.PI - 0.06, side > 0 ? -0.38 : Math.PI + 0.38, 8);
                    _pen.Fill(_proj.Map(outer.Concat(inner).ToList()), _hair);
                }
                _pen.SoftBlend(_proj.Map(Shapes.Ellipse(-w * 0.25, -0.33, 0.09, 0.045, -0.3)), new Scalar(255, 255, 255), 0.3, 0.015, clip: _faceClip);
                break;
            }
        }
    }

    /// <summary>A hairline from the right temple to the left: highest in the middle, dropping at the temples.</summary>
    private static IEnumerable<Point2d> Hairline(double halfWidth, double height, double drop)
    {
        const int n = 12;
        for (int i = 0; i <= n; i++)
        {
            double u = 1 - 2.0 * i / n;
            yield return new Point2d(u * halfWidth, -height + height * drop * Math.Pow(u, 4));
        }
    }

    private void FillHair(List<Point2d> cap)
    {
        var hair = _proj.Map(cap);
        _pen.Fill(hair, _hair);
        // A few darker strands and a soft sheen make the hair read as hair rather than a flat hat.
        var rng = new Random(_t.DetailSeed + 2);
        for (int i = 0; i < 5; i++)
        {
            double sx = rng.Uniform(0.55, 0.95), sy = rng.Uniform(1.02, 1.12);
            double t0 = Math.PI + rng.Uniform(0.75, 1.1), t1 = 2 * Math.PI - rng.Uniform(0.75, 1.1);
            _pen.Line(_proj.Map(Skull(sx, sy, t0, t1, 12)), _hairDark, 0.004);
        }
        _pen.SoftBlend(_proj.Map(Shapes.Ellipse(-_w * 0.3, -0.38, 0.11, 0.04, -0.35)), _t.HairColour.Mix(new RgbColour(255, 255, 255), 0.4).ToScalar(), 0.35, 0.015, clip: hair);
    }

    // ---- facial hair -------------------------------------------------------------------------------------

    private void PaintFacialHair(List<Point2d> outline)
    {
        switch (_t.FacialHair)
        {
            case FacialHair.FullBeard:
            case FacialHair.Stubble:
            {
                // From the sideburns along the jaw and chin, back up over the cheeks to the mouth corners and
                // across the upper lip.
                double top = 0.05, nl = _t.NoseLength, mw = _t.MouthHalfWidth;
                var beard = outline.Where(p => p.Y >= top).Select(p => new Point2d(p.X * 1.02, p.Y + 0.01 * p.Y / _lower)).ToList();
                beard.AddRange([new(-_w * 0.78, top + 0.02), new(-_w * 0.6, nl - 0.01), new(-mw - 0.02, nl + 0.005),
                                new(-mw * 0.4, nl + 0.012), new(0, nl + 0.018), new(mw * 0.4, nl + 0.012), new(mw + 0.02, nl + 0.005),
                                new(_w * 0.6, nl - 0.01), new(_w * 0.78, top + 0.02)]);
                if (_t.FacialHair == FacialHair.FullBeard) _pen.Fill(_proj.Map(beard), _hair);
                else _pen.SoftBlend(_proj.Map(beard), _hairDark, 0.38, 0.01, clip: _faceClip);
                break;
            }
            case FacialHair.Goatee:
            {
                var chin = Shapes.Ellipse(0, (MouthY + _lower) / 2 + 0.02, _t.MouthHalfWidth * 0.75, (_lower - MouthY) / 2 + 0.01);
                _pen.Fill(_proj.Map(chin, 0.02), _hair);
                break;
            }
        }
    }

    private void PaintMoustache()
    {
        double mw = _t.MouthHalfWidth * 1.08, lipTop = MouthY - _t.LipThickness;
        var top = new List<Point2d>();
        var bottom = new List<Point2d>();
        const int n = 12;
        for (int i = 0; i <= n; i++)
        {
            double u = -1 + 2.0 * i / n;
            double x = u * mw;
            double bulge = Math.Pow(1 - u * u, 0.5);
            top.Add(new Point2d(x, lipTop - 0.006 - 0.024 * bulge));
            bottom.Add(new Point2d(x, lipTop + 0.002 + 0.01 * (1 - bulge)));
        }
        bottom.Reverse();
        top.AddRange(bottom);
        _pen.Fill(_proj.Map(top, 0.03), _hair);
    }
}
