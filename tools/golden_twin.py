"""PyTorch twins of clgan's built-in models, losses and training step.

Read with src/nn/models.c, src/nn/layers.c and src/train/gan.c: the layers,
their names (so a clgan checkpoint's tensors load by name), the losses, the
penalty and the order of the updates are the same. Used by golden_make.py
(fixtures) and bench_torch.py (the speed comparison); neither clgan nor its
tests import this file.

Conventions pinned here (each is PyTorch's own unless noted):
  - BatchNorm: batch statistics with the biased variance, eps 1e-5; running
    statistics r = 0.9 r + 0.1 s with the unbiased variance (torch's
    BatchNorm2d/1d with momentum 0.1). clgan updates D's running statistics
    in the D step only (D(real), then D(fake), then D(x_hat) under the
    penalty) and G's in the G step only; in the other network's step the
    layer still normalises with batch statistics but leaves its running ones
    alone (F.batch_norm with no running tensors).
  - LayerNorm over (C, H, W) with per-element affine, eps 1e-5.
  - D and G losses on logits with BCE-with-logits (mean over the batch).
  - z ~ N(0, I) and the penalty's epsilon ~ U(0, 1] from clgan's Philox
    streams, reimplemented here in numpy (philox4x32, normal, uniform) and
    checked against the Random123 known answers.
"""
import json
import struct

import numpy as np

# ---------------------------------------------------------------- Philox ----
PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)

# Random123's kat_vectors for philox4x32_10: (counter, key, expected output)
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def philox4x32(ctr, key):
    """Philox-4x32-10 on arrays: ctr (4, n) and key (2, n) uint64 holding
    32-bit words; returns (4, n)."""
    c0, c1, c2, c3 = [np.asarray(c, dtype=np.uint64) & MASK32 for c in ctr]
    k0, k1 = [np.asarray(k, dtype=np.uint64) & MASK32 for k in key]
    for _ in range(10):
        p0 = np.uint64(PHILOX_M0) * c0
        p1 = np.uint64(PHILOX_M1) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK32
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = (k0 + np.uint64(PHILOX_W0)) & MASK32
        k1 = (k1 + np.uint64(PHILOX_W1)) & MASK32
    return np.stack([c0, c1, c2, c3])


def philox_check():
    for ctr, key, want in PHILOX_KAT:
        got = philox4x32([[c] for c in ctr], [[k] for k in key])[:, 0]
        assert tuple(int(v) for v in got) == want, "Philox known answer failed: %s" % [hex(v) for v in got]


def _words(seed, offset, n):
    """Words 0..n-1 of the stream (seed, offset): word i is word i % 4 of
    Philox(key = seed, counter = (i / 4 as 64 bits, offset as 64 bits))."""
    blocks = (n + 3) // 4
    j = np.arange(blocks, dtype=np.uint64)
    ones = np.ones(blocks, dtype=np.uint64)
    ctr = [j & MASK32, j >> np.uint64(32), ones * np.uint64(offset & 0xFFFFFFFF), ones * np.uint64(offset >> 32)]
    key = [ones * np.uint64(seed & 0xFFFFFFFF), ones * np.uint64(seed >> 32)]
    return philox4x32(ctr, key)  # (4, blocks)


def _unit(w):
    # ((x >> 8) + 1) / 2^24: exact in float32, never 0
    return (((w >> np.uint64(8)) + np.uint64(1)).astype(np.float32) * np.float32(1.0 / 16777216.0)).astype(np.float32)


def philox_uniform(seed, offset, n):
    return _unit(_words(seed, offset, n)).T.reshape(-1)[:n]


def _f32(x):
    return np.asarray(x, dtype=np.float64).astype(np.float32)


def philox_normal(seed, offset, n):
    """Box-Muller on word pairs (0, 1) and (2, 3) of each block, each float32
    operation rounded once (as src/core/philox.c's logf/sqrtf/cosf/sinf)."""
    u = _unit(_words(seed, offset, n))  # (4, blocks)
    out = np.empty_like(u)
    two_pi = np.float32(6.2831853071795864769)
    for p in range(2):
        u1, u2 = u[2 * p], u[2 * p + 1]
        rad = _f32(np.sqrt(np.float32(-2.0) * _f32(np.log(u1.astype(np.float64)))))
        th = _f32(two_pi.astype(np.float64) * u2.astype(np.float64))
        out[2 * p] = _f32(rad.astype(np.float64) * _f32(np.cos(th.astype(np.float64))))
        out[2 * p + 1] = _f32(rad.astype(np.float64) * _f32(np.sin(th.astype(np.float64))))
    return out.T.reshape(-1)[:n]


STREAM_Z_D, STREAM_EPS, STREAM_Z_G = 1, 2, 3
STREAM_AUG_REAL, STREAM_AUG_FAKE, STREAM_AUG_G = 4, 5, 6  # DiffAugment's draws (src/train/gan.c)


def diff_augment(x, u, policy):
    """DiffAugment as the paper's reference code (DiffAugment_pytorch.py: rand_brightness, rand_saturation,
    rand_contrast, rand_translation with ratio 1/8, rand_cutout with ratio 1/2), its torch.rand/randint
    draws replaced by clgan's uniforms u (N, 7): u0-u2 the colour factors, u3-u4 the translation, u5-u6
    the cutout's offsets, turned into integers as clgan does (float32 product, truncated)."""
    import torch
    import torch.nn.functional as F
    if not policy:
        return x
    n, _, h, w = x.shape
    u = torch.from_numpy(u.astype(np.float32))
    col = lambda k: u[:, k].view(n, 1, 1, 1)  # noqa: E731
    if 'color' in policy:
        x = x + (col(0) - 0.5)
        x_mean = x.mean(dim=1, keepdim=True)
        x = (x - x_mean) * (col(1) * 2) + x_mean
        x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
        x = (x - x_mean) * (col(2) + 0.5) + x_mean
    if 'translation' in policy:
        sx, sy = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
        tx = ((u[:, 3] * float(2 * sx + 1)).long().clamp(max=2 * sx) - sx).view(n, 1, 1)
        ty = ((u[:, 4] * float(2 * sy + 1)).long().clamp(max=2 * sy) - sy).view(n, 1, 1)
        gb, gx, gy = torch.meshgrid(torch.arange(n), torch.arange(h), torch.arange(w), indexing='ij')
        gx = torch.clamp(gx + tx + 1, 0, h + 1)
        gy = torch.clamp(gy + ty + 1, 0, w + 1)
        x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
        x = x_pad.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)
    if 'cutout' in policy:
        cs = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
        ox = (u[:, 5] * float(h + 1 - cs[0] % 2)).long().clamp(max=h - cs[0] % 2).view(n, 1, 1)
        oy = (u[:, 6] * float(w + 1 - cs[1] % 2)).long().clamp(max=w - cs[1] % 2).view(n, 1, 1)
        gb, gx, gy = torch.meshgrid(torch.arange(n), torch.arange(cs[0]), torch.arange(cs[1]), indexing='ij')
        gx = torch.clamp(gx + ox - cs[0] // 2, min=0, max=h - 1)
        gy = torch.clamp(gy + oy - cs[1] // 2, min=0, max=w - 1)
        mask = torch.ones(n, h, w, dtype=x.dtype)
        mask[gb, gx, gy] = 0
        x = x * mask.unsqueeze(1)
    return x


def stream_offset(step, stream):
    return step * 65536 + stream  # src/autograd/plan.c


# ----------------------------------------------------------- safetensors ----
_DT = {'F32': np.float32, 'I32': np.int32, 'F64': np.float64, 'I64': np.int64}


def st_read(path):
    raw = open(path, 'rb').read()
    (hlen,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop('__metadata__', {})
    base = 8 + hlen
    out = {}
    for name, t in header.items():
        b, e = t['data_offsets']
        out[name] = np.frombuffer(raw[base + b:base + e], dtype=_DT[t['dtype']]).reshape(t['shape']).copy()
    return out, meta


def st_write(path, tensors, meta):
    names = sorted(tensors)
    header, blobs, off = {}, [], 0
    for n in names:
        a = np.ascontiguousarray(tensors[n])
        dt = {np.dtype(np.float32): 'F32', np.dtype(np.int32): 'I32'}[a.dtype]
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[n] = {'dtype': dt, 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header['__metadata__'] = meta
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


# ---------------------------------------------------------------- models ----
def torch_models():
    """The model classes (imported lazily so the Philox part runs without torch)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def dcgan_plan(size):
        for ups in range(0, 9):
            if 4 << ups == size:
                return 4, ups
        if size == 28:
            return 7, 2
        raise ValueError('DCGAN image size %d' % size)

    def mlp_widths(m):
        if m['kind'] == 'toy' and not m['widths']:
            return [m['width'], m['width']]
        return list(m['widths'])

    def batchnorm(bn, x, update):
        # in the step graphs, training mode always; running statistics updated only in this network's own step
        # (update True); 'eval' normalises with the running statistics (clgan_gan_generate)
        if update == 'eval':
            return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, 1e-5)
        if update:
            return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, True, 0.1, 1e-5)
        return F.batch_norm(x, None, None, bn.weight, bn.bias, True, 0.0, 1e-5)

    class Generator(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m
            zin = m['z_dim']
            if m['classes'] > 0:
                self.embed = nn.Embedding(m['classes'], max(16, m['z_dim']))
                zin += max(16, m['z_dim'])
            if m['kind'] in ('toy', 'mlp'):
                ws = mlp_widths(m)
                self.fcs = []
                bn = m.get('g_batchnorm', 0)
                for i, w in enumerate(ws):
                    # with BatchNorm after it, the linear layer has no bias
                    setattr(self, 'fc%d' % (i + 1), nn.Linear(zin, w, bias=not bn))
                    if bn:
                        setattr(self, 'bn%d' % (i + 1), nn.BatchNorm1d(w))
                    self.fcs.append('fc%d' % (i + 1))
                    zin = w
                nout = 2 if m['kind'] == 'toy' else m['channels'] * m['image_size'] ** 2
                self.out = nn.Linear(zin, nout)
            else:
                start, ups = dcgan_plan(m['image_size'])
                self.ups = ups
                ch = m['width'] << (ups - 1)
                self.convt0 = nn.ConvTranspose2d(zin, ch, start, 1, 0, bias=False)
                self.bn0 = nn.BatchNorm2d(ch)
                for i in range(1, ups):
                    setattr(self, 'convt%d' % i, nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False))
                    ch //= 2
                    setattr(self, 'bn%d' % i, nn.BatchNorm2d(ch))
                setattr(self, 'convt%d' % ups, nn.ConvTranspose2d(ch, m['channels'], 4, 2, 1, bias=False))

        def forward(self, z, labels=None, update_stats=True):
            m = self.m
            x = z
            if m['classes'] > 0:
                x = torch.cat([z, self.embed(labels)], 1)
            if m['kind'] in ('toy', 'mlp'):
                for i, n in enumerate(self.fcs):
                    x = getattr(self, n)(x)
                    if m.get('g_batchnorm', 0):
                        x = batchnorm(getattr(self, 'bn%d' % (i + 1)), x, update_stats)
                    x = F.relu(x)
                x = self.out(x)
                if m['kind'] == 'toy':
                    return x
                return torch.tanh(x).view(-1, m['channels'], m['image_size'], m['image_size'])
            x = x.view(x.shape[0], x.shape[1], 1, 1)
            for i in range(self.ups):
                x = F.relu(batchnorm(getattr(self, 'bn%d' % i), getattr(self, 'convt%d' % i)(x), update_stats))
            return torch.tanh(getattr(self, 'convt%d' % self.ups)(x))

    class Discriminator(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m
            pack = max(m.get('pack', 1), 1)
            self.pieces = max(m.get('maxout', 0), 1)
            if m['kind'] in ('toy', 'mlp'):
                ws = list(m.get('d_widths') or mlp_widths(m)[::-1])
                fin = pack * (2 if m['kind'] == 'toy' else m['channels'] * m['image_size'] ** 2)
                self.fcs = []
                self.ws = ws
                for i, w in enumerate(ws):
                    setattr(self, 'fc%d' % (i + 1), nn.Linear(fin, w * self.pieces))
                    self.fcs.append('fc%d' % (i + 1))
                    fin = w
                self.out = nn.Linear(fin, 1)
                feat = fin
            else:
                start, ups = dcgan_plan(m['image_size'])
                self.ups = ups
                ch, side = m['width'], m['image_size'] // 2
                self.conv0 = nn.Conv2d(pack * m['channels'], ch, 4, 2, 1, bias=False)
                for i in range(1, ups):
                    setattr(self, 'conv%d' % i, nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False))
                    ch *= 2
                    side //= 2
                    if m['d_norm'] == 'batch':
                        setattr(self, 'norm%d' % i, nn.BatchNorm2d(ch))
                    elif m['d_norm'] == 'layer':
                        setattr(self, 'norm%d' % i, nn.LayerNorm([ch, side, side], eps=1e-5))
                setattr(self, 'conv%d' % ups, nn.Conv2d(ch, 1, start, 1, 0, bias=True))
                feat = ch * side * side
            if m['classes'] > 0:
                self.embed = nn.Embedding(m['classes'], feat)
            if m['d_norm'] == 'spectral':
                # every conv and linear layer (not the projection's embedding), PyTorch's own implementation:
                # weight_orig, weight_u, weight_v; one power iteration per call in training mode
                for name, mod in list(self.named_children()):
                    if isinstance(mod, (nn.Conv2d, nn.Linear)):
                        setattr(self, name, torch.nn.utils.spectral_norm(mod, eps=1e-12))

        def forward(self, x, labels=None, update_stats=True):
            m = self.m
            pack = max(m.get('pack', 1), 1)
            # PacGAN: M consecutive samples concatenated along the features (images: the channels)
            n = x.shape[0] // pack
            x = x.reshape((n, pack * x.shape[1]) + tuple(x.shape[2:]))
            if m['kind'] in ('toy', 'mlp'):
                h = x.reshape(n, -1)
                for name, w in zip(self.fcs, self.ws):
                    if self.pieces > 1:  # maxout: unit j is the largest of columns j * pieces .. + pieces - 1
                        h = getattr(self, name)(h).view(n, w, self.pieces).max(2).values
                    else:
                        h = F.leaky_relu(getattr(self, name)(h), 0.2)
                logit = self.out(h)
            else:
                h = F.leaky_relu(self.conv0(x), 0.2)
                for i in range(1, self.ups):
                    h = getattr(self, 'conv%d' % i)(h)
                    if m['d_norm'] == 'batch':
                        h = batchnorm(getattr(self, 'norm%d' % i), h, update_stats)
                    elif m['d_norm'] == 'layer':
                        h = getattr(self, 'norm%d' % i)(h)
                    h = F.leaky_relu(h, 0.2)
                logit = getattr(self, 'conv%d' % self.ups)(h).view(n, 1)
                h = h.reshape(n, -1)
            if m['classes'] > 0:
                # projection discriminator: + <embedding(y), h>
                logit = logit + (self.embed(labels) * h).sum(1, keepdim=True)
            return logit

    return Generator, Discriminator


# ---------------------------------------------------------------- losses ----
def losses():
    import torch
    import torch.nn.functional as F

    def d_loss(kind, dr, df):
        if kind in ('minimax', 'ns'):
            return (F.binary_cross_entropy_with_logits(dr, torch.ones_like(dr)) +
                    F.binary_cross_entropy_with_logits(df, torch.zeros_like(df)))
        if kind == 'hinge':
            return F.relu(1.0 - dr).mean() + F.relu(1.0 + df).mean()
        return df.mean() - dr.mean()  # WGAN critic

    def g_loss(kind, df):
        if kind == 'minimax':  # minimise log(1 - D(G(z)))
            return -F.binary_cross_entropy_with_logits(df, torch.zeros_like(df))
        if kind == 'ns':  # minimise -log D(G(z))
            return F.binary_cross_entropy_with_logits(df, torch.ones_like(df))
        return -df.mean()

    def score(kind, logits):
        return torch.sigmoid(logits).mean() if kind in ('minimax', 'ns') else logits.mean()

    return d_loss, g_loss, score


def make_optimizer(params, o):
    import torch
    if o['kind'] == 'adam':
        return torch.optim.Adam(params, lr=o['lr'], betas=(o['beta1'], o['beta2']), eps=o['eps'],
                                weight_decay=o['weight_decay'])
    if o['kind'] == 'sgd':
        return torch.optim.SGD(params, lr=o['lr'], momentum=o['momentum'], weight_decay=o['weight_decay'])
    return torch.optim.RMSprop(params, lr=o['lr'], alpha=o['alpha'], eps=o['eps'], weight_decay=o['weight_decay'])
