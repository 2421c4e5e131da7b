#!/usr/bin/env python3
"""Makes tests/golden-metrics/kid_pr.safetensors: two small feature sets and
their kernel inception distance and k-NN precision and recall computed
straight from the papers' formulas in NumPy (float64), for tests/test_eval.c
(parts kid and pr) to compare clgan_kid_subsets, clgan_kid and
clgan_precision_recall_points against.

usage: .venv-torch/bin/python tools/kid_pr_reference.py [--out FILE]

NumPy only (no torch). The sets are deterministic from SEED: a (300, 64) and
b (250, 64), softplus of correlated Gaussians (non-negative and dense, like
Inception's pooled features), b drawn from a slightly shifted and scaled
distribution so that its KID to a is clearly positive.

KID ("Demystifying MMD GANs", Binkowski et al. 2018) of subsets X, Y of m
rows each, with k(x, y) = (x.y / d + 1)^3:
    sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
      - 2 sum_{i, j} k(x_i, y_j) / m^2
(the estimator of StyleGAN2-ADA's kernel_inception_distance.py and
clean-fid's kernel_distance); the fixture holds it over SUBSETS subsets of M
rows whose indices NumPy draws here (kid_ia, kid_ib: clgan_kid_subsets takes
them), their mean and population standard deviation, the value with the
subsets the whole sets a[:250] and b (kid_whole_equal: no randomness), and the
full-sample unbiased estimate over all of a and b with unequal sizes
(kid_full_unequal: what the mean over random subsets estimates).

Precision and recall ("Improved Precision and Recall Metric for Assessing
Generative Models", Kynkaanniemi et al. 2019), real = a, generated = b:
radius of a point = Euclidean distance to its k-th nearest *other* point of
its own set; precision = fraction of generated points within distance <= the
radius of some real point; recall the other way round. Distances here are
the direct sqrt(sum (x - y)^2), not the |x|^2 + |y|^2 - 2 x.y clgan uses, so
the comparison checks that too. The script refuses to write a fixture in
which any decision lies within a relative 1e-9 of its threshold, so the
counts are well defined in double whichever way the distances are rounded.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

SEED = 20191003
NA, NB, DIM = 300, 250, 64
SUBSETS, M = 10, 100
KS = (1, 3, 5)
MIN_MARGIN = 1e-9


def make_features(rng):
    mix = rng.normal(size=(DIM, DIM)) / np.sqrt(DIM)
    za = rng.normal(size=(NA, DIM))
    zb = rng.normal(size=(NB, DIM))
    a = np.logaddexp(0.0, za @ mix + 0.3)
    b = np.logaddexp(0.0, 1.04 * (zb @ mix) + 0.36)
    return a.astype(np.float32), b.astype(np.float32)


def kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    """Gretton et al. 2012 eq. 3 with the cubic kernel: off-diagonal means of
    Kxx and Kyy, minus twice the mean of the whole Kxy."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2.0 * kxy.sum() / (m * n))


def distances(x, y):
    return np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2))


def radii(x, k):
    d = distances(x, x)
    out = np.empty(len(x))
    for i in range(len(x)):
        others = np.delete(d[i], i)  # the point itself left out by index
        out[i] = np.sort(others)[k - 1]
    return out


def inside(probes, manifold, manifold_radius):
    """1 where a probe lies within (<=) the ball of some manifold point, and
    the smallest relative distance of a decision from its threshold."""
    d = distances(probes, manifold)
    slack = d - manifold_radius[None, :]
    flags = (slack <= 0).any(axis=1)
    rel = np.abs(slack) / np.maximum(manifold_radius[None, :], 1e-300)
    # each probe's decision is the sign of its smallest slack; a flip needs
    # that one (or, for an outside probe, any) to cross 0
    margin = rel.min()
    return flags.astype(np.uint8), margin


def write_safetensors(path, tensors, metadata):
    """tensors: name -> numpy array (float64, float32, int32 or uint8);
    stored by decreasing element size, then name, so each is aligned."""
    codes = {np.dtype(np.float64): 'F64', np.dtype(np.float32): 'F32', np.dtype(np.int32): 'I32',
             np.dtype(np.uint8): 'U8'}
    names = sorted(tensors, key=lambda n: (-tensors[n].dtype.itemsize, n))
    header = {'__metadata__': metadata}
    offset, blobs = 0, []
    for n in names:
        t = np.ascontiguousarray(tensors[n])
        data = t.astype(t.dtype.newbyteorder('<'), copy=False).tobytes()
        header[n] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--out', default=os.path.join(here, '..', 'tests', 'golden-metrics', 'kid_pr.safetensors'))
    args = ap.parse_args()

    rng = np.random.default_rng(SEED)
    a32, b32 = make_features(rng)
    a, b = a32.astype(np.float64), b32.astype(np.float64)  # exactly the floats the C test reads

    ia = np.stack([rng.choice(NA, M, replace=False) for _ in range(SUBSETS)]).astype(np.int32)
    ib = np.stack([rng.choice(NB, M, replace=False) for _ in range(SUBSETS)]).astype(np.int32)
    values = np.array([mmd2_unbiased(a[ia[s]], b[ib[s]]) for s in range(SUBSETS)])
    whole_equal = mmd2_unbiased(a[:NB], b)
    full_unequal = mmd2_unbiased(a, b)

    tensors = {'a': a32, 'b': b32, 'kid_ia': ia, 'kid_ib': ib, 'kid_values': values,
               'kid_mean_std': np.array([values.mean(), values.std()]),
               'kid_whole_equal': np.array([whole_equal]), 'kid_full_unequal': np.array([full_unequal])}
    counts, margins = [], []
    for k in KS:
        rr, gr = radii(a, k), radii(b, k)
        gen_in, m1 = inside(b, a, rr)
        real_in, m2 = inside(a, b, gr)
        counts.append([int(gen_in.sum()), int(real_in.sum())])
        margins.append(min(m1, m2))
        if k == 3:
            tensors.update({'pr_real_radius': rr, 'pr_gen_radius': gr, 'pr_gen_in_real': gen_in,
                            'pr_real_in_gen': real_in})
        print('k = %d: precision %d / %d, recall %d / %d, closest decision at relative %.3g of its radius'
              % (k, counts[-1][0], NB, counts[-1][1], NA, margins[-1]))
    if min(margins) < MIN_MARGIN:
        sys.exit('a decision lies within %g of its threshold: pick another SEED' % min(margins))
    tensors['pr_k_counts'] = np.array([[k] + c for k, c in zip(KS, counts)], dtype=np.int32)

    print('KID over %d subsets of %d: mean %.12g, std %.6g; whole sets (250, 250) %.12g; all rows %.12g'
          % (SUBSETS, M, values.mean(), values.std(), whole_equal, full_unequal))
    meta = {'format': 'clgan-golden-metrics', 'made_by': 'tools/kid_pr_reference.py', 'seed': str(SEED),
            'numpy': np.__version__, 'kid_kernel': '(x.y / dim + 1)^3',
            'kid_estimator': 'unbiased: off-diagonal XX and YY means, minus twice the whole XY mean',
            'pr_k_counts': 'rows (k, generated in real balls, real in generated balls)',
            'pr_min_margin': '%.3g' % min(margins)}
    write_safetensors(os.path.abspath(args.out), tensors, meta)
    print('wrote', os.path.abspath(args.out), os.path.getsize(args.out), 'bytes')


if __name__ == '__main__':
    main()
