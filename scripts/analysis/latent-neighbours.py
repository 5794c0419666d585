#!/usr/bin/env python3
"""Offline: how well the identity probe's latents (stored in RUN/ledger.db, table probes) separate planted faces.

Compares the ledger's latent score (distance from the centre of the identity's other faces) with the mean distance to
the k nearest faces of the identity (k = 2, 3), both as ln(distance / identity median) and a robust z over the set,
as `LatentScores` computes them. Prints, per run: the AUC of each kind against the good faces at one probe, and
over every probe from --from-cycle on, how many planted and good faces are outliers in two probes in a row at each
z threshold (the policy's 2-of-2 rule). Hard faces lit from the side (the generator's truth says "light") are shown
apart as hard-lit. Needs python3-numpy.

  scripts/analysis/latent-neighbours.py --auc-cycle 11 RUN1 TRUTH1.json [RUN2 TRUTH2.json ...]
"""
import argparse, json, sqlite3
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument('--auc-cycle', type=int, default=11)
ap.add_argument('--from-cycle', type=int, default=19)
ap.add_argument('pairs', nargs='+')
args = ap.parse_args()
SCORES = (('centre', 0), ('knn2', 2), ('knn3', 3))


def load(run, truth_file):
    db = sqlite3.connect(f'file:{run}/ledger.db?mode=ro', uri=True)
    truth = {f['path']: f['kind'] + ('-lit' if 'light' in f.get('detail', '') else '')
             for f in json.load(open(truth_file))['files']}
    samples = {r[0]: (r[1], r[2]) for r in db.execute('select id, identity, path from samples')}
    kinds = {i: truth.get(p, '?') for i, (_, p) in samples.items()}
    probes = {}
    for cycle in sorted({r[0] for r in db.execute('select cycle from probes where latents is not null')}):
        ids, lat = [], []
        for b, w, l in db.execute('select ids, latent_width, latents from probes where cycle = ?', (cycle,)):
            i = np.frombuffer(b, dtype=np.int32)
            ids += list(i)
            lat.append(np.frombuffer(l, dtype=np.float32).reshape(len(i), w))
        x = np.concatenate(lat).astype(np.float64)
        probes[cycle] = (np.array(ids), np.array([samples[i][0] for i in ids]), (x - x.mean(0)) / np.maximum(x.std(0), 1e-6))
    return probes, kinds


def score(g, x, k):
    d = np.zeros(len(g))
    for identity in set(g):
        m = np.where(g == identity)[0]
        y = x[m]
        dd = np.sqrt(((y[:, None] - y[None]) ** 2).sum(-1))
        for a, s in enumerate(m):
            others = np.delete(np.arange(len(m)), a)
            d[s] = np.linalg.norm(y[a] - y[others].mean(0)) if k == 0 else np.sort(dd[a, others])[:k].mean()
    e = np.log(d / np.array([np.median(d[g == identity]) for identity in g]))
    c = np.median(e)
    return e, (e - c) / max(1.4826 * np.median(np.abs(e - c)), 0.05)


def auc(pos, neg):
    return float(np.mean([(p > neg).mean() + 0.5 * (p == neg).mean() for p in pos])) if len(pos) else float('nan')


GOOD = ('good', 'hard', 'hard-lit')
for run, truth_file in zip(args.pairs[::2], args.pairs[1::2]):
    probes, kinds = load(run, truth_file)
    print(f'== {run}')
    if args.auc_cycle in probes:
        ids, g, x = probes[args.auc_cycle]
        kind = np.array([kinds[i] for i in ids])
        for name, k in SCORES:
            _, z = score(g, x, k)
            good = z[kind == 'good']
            print(f'  AUC at cycle {args.auc_cycle} {name:6s} ' + ' '.join(
                f'{kk}={auc(z[kind == kk], good):.2f}' for kk in sorted(set(kind) - {'good'})))
    scored = {c: {name: score(g, x, k) for name, k in SCORES} for c, (ids, g, x) in probes.items() if c >= args.from_cycle}
    for name, _ in SCORES:
        for zt in (2.5, 3.0, 3.5, 4.0):
            hist = {}
            for c, s in scored.items():
                e, z = s[name]
                for j, i in enumerate(probes[c][0]):
                    hist.setdefault(int(i), []).append(z[j] >= zt and e[j] >= np.log(1.25))
            caught = [i for i, h in hist.items() if any(a and b for a, b in zip(h, h[1:]))]
            bad = sum(kinds[i] not in GOOD for i in caught)
            good = sum(kinds[i] in GOOD for i in caught)
            lit = sum(kinds[i] == 'hard-lit' for i in caught)
            print(f'  2 probes in a row from cycle {args.from_cycle}, {name:6s} z >= {zt}: planted {bad:3d}, good {good:3d} (of them hard-lit {lit})')
