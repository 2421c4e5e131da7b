#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz harness into a folder.

    make_corpus.py HARNESS DIR [--seeds-exe build-fuzz/tests/fuzz/fuzz_seeds]

Seeds are small valid files (and a few near misses) of each format, so that
the fuzzer starts from inputs the parsers accept instead of having to find
the magic numbers, CRCs and checksums on its own. Stdlib only; the
configurations and checkpoints come from fuzz_seeds (built with the fuzz
build), which writes them with the library itself.
"""
import argparse
import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HARNESSES = ('safetensors', 'json', 'config', 'png', 'idx', 'cifar', 'checkpoint', 'kernel_cache')


def gz(data):
    # mtime 0: the same seeds on every run
    return gzip.compress(data, mtime=0)


# ---- safetensors ----
DTYPES = {'F64': ('d', 8), 'F32': ('f', 4), 'I64': ('q', 8), 'I32': ('i', 4), 'I16': ('h', 2), 'I8': ('b', 1),
          'U8': ('B', 1), 'BOOL': ('B', 1), 'F16': ('H', 2), 'BF16': ('H', 2), 'U16': ('H', 2), 'U32': ('I', 4),
          'U64': ('Q', 8)}


def safetensors(tensors, metadata=None, pad_to=8):
    """tensors: [(name, dtype, shape, values)] in data order."""
    header, blob = {}, b''
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, dtype, shape, values in tensors:
        fmt, size = DTYPES[dtype]
        data = struct.pack('<%d%s' % (len(values), fmt), *values)
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % pad_to)
    return struct.pack('<Q', len(text)) + text + blob


def safetensors_seeds():
    yield 'empty', safetensors([])
    yield 'meta-only', safetensors([], {'format': 'x', 'note': 'caf\u00e9 \\"q\\"'})
    yield 'one-f32', safetensors([('w', 'F32', [2, 3], [0.5 * i for i in range(6)])])
    yield 'scalar-and-empty', safetensors([('s', 'F64', [], [1.25]), ('e', 'F32', [0, 4], [])], {'a': 'b'})
    yield 'dtypes', safetensors([(dt.lower(), dt, [2], [1, 0]) for dt in DTYPES])
    yield 'ndim8', safetensors([('t', 'U8', [1] * 7 + [3], [1, 2, 3])])
    yield 'unpadded', safetensors([('x', 'I32', [1], [7])], pad_to=1)


# ---- JSON ----
def json_seeds():
    docs = [
        '{}', '[]', 'null', 'true', '0', '-0', '1e308', '-1.5e-300', '9223372036854775807', '-9223372036854775808',
        '9223372036854775808', '0.1', '123456789012345678901234567890', '"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/"',
        '"caf\u00e9 \u4e2d"', '"\\u0000"', '[1,[2,[3,[4,{"a":[]}]]]]', ' {"a" : 1 , "b" : [true, false, null]} ',
        '{"k":{"k":{"k":"v"}},"x":-12.5e+3,"y":"","z":[{}]}', '[' * 40 + ']' * 40,
    ]
    for i, d in enumerate(docs):
        yield 'doc%02d' % i, d.encode()


# ---- PNG ----
def png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))


def adam7_passes(w, h):
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        xs, ys = list(range(x0, w, dx)), list(range(y0, h, dy))
        if xs and ys:
            yield xs, ys


def png(w, h, depth, color, pixel, plte=None, trns=None, interlace=False, filt=0):
    """pixel(x, y) -> tuple of samples; rows are packed for depths < 8."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]

    def row(xs, y):
        if depth >= 8:
            out = b''
            for x in xs:
                for s in pixel(x, y):
                    out += struct.pack('>H', s) if depth == 16 else bytes([s])
            return out
        bits, out = 0, bytearray()
        n = 0
        for x in xs:
            bits = (bits << depth) | pixel(x, y)[0]
            n += depth
            if n == 8:
                out.append(bits)
                bits = n = 0
        if n:
            out.append(bits << (8 - n))
        return bytes(out)

    raw = b''
    passes = adam7_passes(w, h) if interlace else [(list(range(w)), list(range(h)))]
    bpp = max(1, channels * depth // 8)
    for xs, ys in passes:
        prev = None
        for y in ys:
            r = row(xs, y)
            up = prev or bytes(len(r))
            if filt == 1:  # Sub
                f = bytes((r[i] - (r[i - bpp] if i >= bpp else 0)) & 255 for i in range(len(r)))
            elif filt == 2:  # Up
                f = bytes((r[i] - up[i]) & 255 for i in range(len(r)))
            else:
                f = r
            raw += bytes([filt]) + f
            prev = r
    out = b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, color, 0, 0, int(interlace)))
    if plte:
        out += png_chunk(b'PLTE', plte)
    if trns is not None:
        out += png_chunk(b'tRNS', trns)
    return out + png_chunk(b'IDAT', zlib.compress(raw, 9)) + png_chunk(b'IEND', b'')


def png_seeds():
    m = lambda bits: (1 << bits) - 1
    for depth in (1, 2, 4, 8, 16):
        yield 'gray%d' % depth, png(5, 3, depth, 0, lambda x, y, d=depth: ((x + 2 * y) & m(d),))
    yield 'gray8-trns', png(4, 4, 8, 0, lambda x, y: (x * 60,), trns=struct.pack('>H', 0))
    yield 'ga8', png(3, 3, 8, 4, lambda x, y: (x * 100, y * 120))
    yield 'ga16', png(2, 2, 16, 4, lambda x, y: (x * 30000, 65535))
    yield 'rgb8', png(4, 3, 8, 2, lambda x, y: (x * 60, y * 80, 200), filt=1)
    yield 'rgb16', png(3, 2, 16, 2, lambda x, y: (x * 20000, y * 30000, 1234))
    yield 'rgb8-trns', png(2, 2, 8, 2, lambda x, y: (x, y, 0), trns=struct.pack('>HHH', 0, 0, 0))
    yield 'rgba8', png(3, 3, 8, 6, lambda x, y: (255, x * 100, y * 100, (x + y) * 60), filt=2)
    yield 'rgba16', png(2, 2, 16, 6, lambda x, y: (1, 2, 3, x * 65535))
    pal = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    yield 'pal2', png(5, 5, 2, 3, lambda x, y: ((x + y) % 4 % 3,), plte=pal, trns=bytes([0, 128]))
    yield 'pal8', png(3, 2, 8, 3, lambda x, y: ((x + y) % 4,), plte=pal + bytes([9, 9, 9]))
    yield 'gray8-adam7', png(9, 9, 8, 0, lambda x, y: ((x * 9 + y) * 3,), interlace=True)
    yield 'rgb8-adam7', png(5, 7, 8, 2, lambda x, y: (x * 40, y * 30, 7), interlace=True)


# ---- idx (the harness's first byte: 0 raw, 1 gzip'd by the harness, 2 images + labels) ----
def idx3(n, rows, cols):
    return struct.pack('>IIII', 0x803, n, rows, cols) + bytes((i * 37) & 255 for i in range(n * rows * cols))


def idx1(n):
    return struct.pack('>II', 0x801, n) + bytes(i % 10 for i in range(n))


def idx_seeds():
    yield 'raw', b'\0' + idx3(2, 4, 3)
    yield 'raw-gzip', b'\0' + gz(idx3(3, 2, 2))
    yield 'gzip', b'\1' + idx3(1, 5, 5)
    yield 'empty-set', b'\0' + idx3(0, 28, 28)
    images = idx3(4, 3, 3)
    yield 'labelled', b'\2' + struct.pack('<H', len(images)) + images + idx1(4)
    images = gz(idx3(2, 2, 2))
    yield 'labelled-gzip', b'\2' + struct.pack('<H', len(images)) + images + gz(idx1(2))


# ---- CIFAR-10 (first byte: even raw, odd gzip'd by the harness) ----
def cifar(n):
    return b''.join(bytes([r % 10]) + bytes(((i + r) * 7) & 255 for i in range(3072)) for r in range(n))


def cifar_seeds():
    yield 'raw1', b'\0' + cifar(1)
    yield 'raw2', b'\0' + cifar(2)
    yield 'gzip1', b'\1' + cifar(1)
    yield 'raw-gzip2', b'\0' + gz(cifar(2))
    yield 'short', b'\0' + cifar(1)[:3000]


# ---- kernel cache (key[32] then the entry) ----
def kcache_entry(key, payload, fmt=1):
    return b'CLGANKC\0' + struct.pack('<II', fmt, 0) + key + struct.pack('<Q', len(payload)) + \
        hashlib.sha256(payload).digest() + payload


def kernel_cache_seeds():
    key = hashlib.sha256(b'clgan kernel cache fuzz key').digest()
    for n in (0, 1, 64, 1000):
        payload = bytes((i * 13) & 255 for i in range(n))
        yield 'entry%d' % n, key + kcache_entry(key, payload)
    yield 'stale', key + kcache_entry(bytes(32), b'\x7fELF')
    yield 'format2', key + kcache_entry(key, b'abc', fmt=2)
    yield 'truncated', key + kcache_entry(key, b'abcdef')[:-2]


# ---- from the library: configurations and checkpoints ----
def from_seed_writer(exe, what):
    if not exe:
        sys.exit('make_corpus.py: %s seeds need --seeds-exe (fuzz_seeds of the fuzz build)' % what)
    with tempfile.TemporaryDirectory(prefix='clgan-seeds-') as d:
        subprocess.run([exe, what, d], check=True)
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), 'rb') as f:
                yield name.rsplit('.', 1)[0], f.read()


def config_seeds(exe):
    for name, data in from_seed_writer(exe, 'config'):
        yield name, data
        cfg = json.loads(data)
        if 'lr_schedule' in cfg:  # written before schedules existed
            del cfg['lr_schedule']
            yield name + '-no-schedule', json.dumps(cfg).encode()


def seeds(harness, exe):
    if harness == 'safetensors':
        yield from safetensors_seeds()
        yield from from_seed_writer(exe, 'checkpoint')
    elif harness == 'json':
        yield from json_seeds()
        yield from from_seed_writer(exe, 'config')
    elif harness == 'config':
        yield from config_seeds(exe)
    elif harness == 'png':
        yield from png_seeds()
    elif harness == 'idx':
        yield from idx_seeds()
    elif harness == 'cifar':
        yield from cifar_seeds()
    elif harness == 'checkpoint':
        yield from from_seed_writer(exe, 'checkpoint')
    elif harness == 'kernel_cache':
        yield from kernel_cache_seeds()


def write_corpus(harness, out_dir, exe=None):
    """Writes the seeds; returns (count, largest size)."""
    os.makedirs(out_dir, exist_ok=True)
    count = largest = 0
    for name, data in seeds(harness, exe):
        with open(os.path.join(out_dir, 'seed-' + name), 'wb') as f:
            f.write(data)
        count += 1
        largest = max(largest, len(data))
    return count, largest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('harness', choices=HARNESSES)
    ap.add_argument('dir')
    ap.add_argument('--seeds-exe', help='fuzz_seeds of the fuzz build (config, checkpoint, safetensors, json)')
    a = ap.parse_args()
    n, largest = write_corpus(a.harness, a.dir, a.seeds_exe)
    print('%s: %d seeds in %s (largest %d bytes)' % (a.harness, n, a.dir, largest))


if __name__ == '__main__':
    main()
