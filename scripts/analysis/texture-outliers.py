#!/usr/bin/env python3
"""Offline: how well a face's local-texture histograms separate planted faces from good ones, with no model.

The texture prior's score (`TextureDescriptor`, `TextureOutliers`), in numpy: each image in grey, resized to
--size, optionally light-normalised (Tan and Triggs: gamma 0.2, difference of Gaussians of sigma 1 and 2, contrast
equalisation; --light tt) or blurred (--light blur), then uniform LBP (8 neighbours, radius 1, 59 bins) histograms on a
--grid x --grid grid; the chi-square distance to the mean of the identity's other faces, as a ratio to the identity's
median, in log, as a robust z over the set. Prints per folder: the AUC of each kind against the good faces, and how
many planted, good and hard faces reach each z threshold. Needs python3-numpy and python3-pil (/usr/bin/python3).

  ./facecluster plant --faces tests/data/cmu-faces --out /tmp/tx/cmu --seed 1
  ./facecluster synth --out /tmp/tx/gen --identities 8 --per-identity 120 --seed 1
  scripts/analysis/texture-outliers.py --light tt /tmp/tx/cmu /tmp/tx/gen      # truth: FOLDER.truth.json
"""
import argparse, json, os
from collections import defaultdict
import numpy as np
from PIL import Image

ap = argparse.ArgumentParser()
ap.add_argument('--size', type=int, default=64)
ap.add_argument('--grid', type=int, default=6)
ap.add_argument('--light', choices=('none', 'blur', 'tt'), default='tt')
ap.add_argument('--thresholds', default='2.5,3.5,4.0')
ap.add_argument('--side-lit', type=int, default=0,
                help='light this many good faces per identity hard from one side first (x1.8 falling to x0.09 across, '
                     'clipped; alternately from the left and the right) and count them as hard: a robustness check')
ap.add_argument('folders', nargs='+')
args = ap.parse_args()


def uniform_bins():
    bins, k = np.full(256, 58, dtype=np.int64), 0
    for c in range(256):
        if sum(((c >> i) & 1) != ((c >> ((i + 1) % 8)) & 1) for i in range(8)) <= 2:
            bins[c], k = k, k + 1
    return bins


BINS = uniform_bins()


def blur(a, s):
    r = int(3 * s + 0.5)
    x = np.arange(-r, r + 1)
    k = np.exp(-x * x / (2 * s * s))
    k /= k.sum()
    p = np.pad(a, r, mode='reflect')
    p = np.apply_along_axis(lambda v: np.convolve(v, k, 'valid'), 1, p)
    return np.apply_along_axis(lambda v: np.convolve(v, k, 'valid'), 0, p)


def tan_triggs(a, gamma=0.2, alpha=0.1, tau=10.0):
    x = np.power(a / 255.0 + 1e-3, gamma)
    x = blur(x, 1.0) - blur(x, 2.0)
    x = x / (np.mean(np.abs(x) ** alpha) ** (1 / alpha) + 1e-8)
    x = x / (np.mean(np.minimum(tau, np.abs(x)) ** alpha) ** (1 / alpha) + 1e-8)
    return tau * np.tanh(x / tau)


def descriptor(path, lit=0):
    im = Image.open(path).convert('L')
    if lit:
        a = np.asarray(im, dtype=np.float64)
        ramp = 1.8 * (1 - 0.95 * np.linspace(0, 1, a.shape[1]))
        im = Image.fromarray(np.clip(a * (ramp if lit == 1 else ramp[::-1]), 0, 255).astype(np.uint8))
    a = np.asarray(im.resize((args.size, args.size), Image.BILINEAR), dtype=np.float64)
    a = {'none': lambda v: v, 'blur': lambda v: blur(v, 1.0), 'tt': tan_triggs}[args.light](a)
    c, (h, w) = a[1:-1, 1:-1], a.shape
    code = np.zeros(c.shape, dtype=np.int64)
    for i, (dy, dx) in enumerate([(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]):
        code |= (a[1 + dy:h - 1 + dy, 1 + dx:w - 1 + dx] >= c).astype(np.int64) << i
    lbp, g, (H, W) = BINS[code], args.grid, c.shape
    cells = [np.bincount(lbp[y * H // g:(y + 1) * H // g, x * W // g:(x + 1) * W // g].ravel(), minlength=59)
             for y in range(g) for x in range(g)]
    return np.concatenate([cell / max(1, cell.sum()) for cell in cells])


def chi2(a, b):
    return 0.5 * np.sum((a - b) ** 2 / (a + b + 1e-10), axis=-1)


def auc(pos, neg):
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size)) if pos.size and neg.size else float('nan')


for folder in args.folders:
    folder = folder.rstrip('/')
    by, lit = defaultdict(list), defaultdict(int)
    for f in json.load(open(folder + '.truth.json'))['files']:
        if os.path.exists(os.path.join(folder, f['path'])):
            side, kind = 0, f['kind']
            if kind == 'good' and lit[f['identity']] < args.side_lit:
                lit[f['identity']] += 1
                side, kind = 1 + lit[f['identity']] % 2, 'hard'
            by[f['identity']].append((kind, descriptor(os.path.join(folder, f['path']), side)))
    kinds, logs = [], []
    for items in by.values():
        d = np.array([x for _, x in items])
        dist = np.array([chi2(d[i], (d.sum(0) - d[i]) / (len(d) - 1)) for i in range(len(d))])
        kinds += [k for k, _ in items]
        logs += list(np.log(dist / np.median(dist)))
    logs = np.array(logs)
    z = (logs - np.median(logs)) / (1.4826 * np.median(np.abs(logs - np.median(logs))))
    good = z[[k == 'good' for k in kinds]]
    print(f"{folder} (light {args.light}, {args.size} px, {args.grid}x{args.grid}): AUC " + ", ".join(
        f"{k} {auc(z[[x == k for x in kinds]], good):.2f}" for k in sorted(set(kinds)) if k != 'good'))
    planted = [k not in ('good', 'hard') for k in kinds]
    for t in map(float, args.thresholds.split(',')):
        print(f"  z >= {t}: planted {int((z[planted] >= t).sum())}/{sum(planted)}, good {int((good >= t).sum())}/{good.size}, "
              f"hard {int((z[[k == 'hard' for k in kinds]] >= t).sum())}")
