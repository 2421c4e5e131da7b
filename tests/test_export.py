#!/usr/bin/env python3
"""clgan export (suite 'train'): the generator in PyTorch and in ONNX, and what export refuses.

    test_export.py torch          for a DCGAN with its EMA, a conditional DCGAN, a 32x32 RGB DCGAN, a
                                  conditional MLP and the toy model: clgan export --format pytorch, then the module
                                  of docs/export.md (its text, read from the file) loads the file with
                                  safetensors.torch.load_file + load_state_dict(strict=True) and, on
                                  the z and labels `clgan sample --out-tensors` drew, must give
                                  clgan's values within 1e-5; --no-ema must give G's own weights.
                                  Exits 77 when no Python with torch and safetensors is found
                                  ($CLGAN_TORCH_PYTHON, else the source tree's .venv-torch).
    test_export.py onnx           the same five models through --format onnx, run by onnxruntime on
                                  the same z and labels: clgan's values within 1e-5. Exits 77 when no
                                  Python with onnxruntime and numpy is found ($CLGAN_ONNX_PYTHON, else
                                  the source tree's .venv-onnx, which tools/test.sh makes); with the
                                  onnx package there too, onnx.checker.check_model (full_check)
                                  must pass on each.
    test_export.py errors         an unknown format, a missing --out, an output folder that does not
                                  exist, a damaged checkpoint: exit 2 or 1 with a message naming the
                                  option or file, and nothing written.

Runs the real clgan binary ($CLGAN_BIN) on the ref device."""
import os
import re
import subprocess
import sys
import tempfile

from cli_check import check, expect, failures, must, st_read

SRC = os.environ['CLGAN_SOURCE_ROOT']
DOC = os.path.join(SRC, 'docs', 'export.md')

MODELS = {
    # name: training options (ref, 2 steps)
    'dcgan-ema': ['--model', 'dcgan', '--width', '8', '--z-dim', '16', '--g-ema', '0.9'],
    'dcgan-cond': ['--model', 'dcgan', '--width', '4', '--z-dim', '8', '--conditional'],
    'dcgan-32-rgb': ['--model', 'dcgan', '--image-size', '32', '--channels', '3', '--width', '4', '--z-dim', '8',
                     '--dataset', 'folder'],
    'mlp-cond': ['--model', 'mlp', '--widths', '24,16', '--z-dim', '8', '--conditional'],
    'toy': ['--model', 'toy', '--width', '16', '--dataset', 'ring8'],
}


def module_source():
    """The module's text: the first python block after '### The module' in docs/export.md."""
    text = open(DOC).read()
    at = text.index('### The module')
    m = re.search(r'```python\n(.*?)```', text[at:], re.S)
    return m.group(1)


def find_python(env, venv, modules):
    """a Python that imports modules: $env, else the source tree's venv"""
    for c in (os.environ.get(env), os.path.join(SRC, venv, 'bin', 'python')):
        if c and os.access(c, os.X_OK):
            r = subprocess.run([c, '-c', 'import ' + modules], capture_output=True)
            if r.returncode == 0:
                return c
    return None


def torch_python():
    return find_python('CLGAN_TORCH_PYTHON', '.venv-torch', 'torch, safetensors')


def onnx_python():
    return find_python('CLGAN_ONNX_PYTHON', '.venv-onnx', 'onnxruntime, numpy')


# the comparison, run by the Python that has torch: prints "max_abs <v>" per pair
COMPARE = r'''
import sys
import torch
from safetensors import safe_open
exec(open(sys.argv[1]).read())
for pair in sys.argv[2:]:
    model, tensors = pair.split(':')
    g = Generator.from_file(model)
    with safe_open(tensors, 'pt') as f:
        t = {k: f.get_tensor(k) for k in f.keys()}
    with torch.no_grad():
        out = g(t['z'], t['labels'].long() if 'labels' in t else None)
    want = t['points'] if 'points' in t else t['images']
    print('max_abs %s %.3g %.3g %s' % (model, float((out - want).abs().max()), float(want.abs().max()),
                                     tuple(out.shape) == tuple(want.shape)))
'''


# onnxruntime on each model with the z and labels clgan sample drew: prints "max_abs <model> <v> <same shape>"
ONNX_COMPARE = r'''
import json, struct, sys
import numpy as np
import onnxruntime as ort


def st(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    head, data, out = json.loads(b[8:8 + n]), b[8 + n:], {}
    for k, v in head.items():
        if k != '__metadata__':
            a, e = v['data_offsets']
            out[k] = np.frombuffer(data[a:e], dtype={'F32': np.float32, 'I32': np.int32}[v['dtype']]).reshape(v['shape'])
    return out


try:
    import onnx  # the official checker, with shape inference, where installed
except ImportError:
    onnx = None
for pair in sys.argv[1:]:
    model, tensors = pair.split(':')
    t = st(tensors)
    if onnx is not None:
        onnx.checker.check_model(onnx.load(model), full_check=True)
        print('checked %s' % model)
    s = ort.InferenceSession(model, providers=['CPUExecutionProvider'])
    feed = {'z': t['z']}
    if 'labels' in t:
        feed['labels'] = t['labels'].astype(np.int64)
    out = s.run(None, feed)[0]
    want = t['points'] if 'points' in t else t['images']
    print('max_abs %s %.3g %.3g %s' % (model, float(np.abs(out - want).max()), float(np.abs(want).max()),
                                     out.shape == want.shape))
'''


def train_models(tmp):
    """the run folder of each model in MODELS, trained 2 steps on ref"""
    dirs = {}
    for name, opts in MODELS.items():
        run_dir = os.path.join(tmp, name)
        args = ['train', *opts, '--batch-size', '8', '--steps', '2', '--device', 'ref', '--quiet', '--out', run_dir]
        if '--dataset' in opts and 'folder' in opts:
            args += ['--data', folder_data(tmp)]
        must(args, 'train %s' % name)
        dirs[name] = run_dir
    return dirs


def exports(tmp, fmt, suffix):
    """export + sample --out-tensors for every model (and the EMA model with --no-ema): 'model:tensors' pairs"""
    pairs = []
    for name, run_dir in train_models(tmp).items():
        for raw in ([False, True] if name == 'dcgan-ema' else [False]):
            tag = name + ('-raw' if raw else '')
            model, tensors = os.path.join(tmp, tag + suffix), os.path.join(tmp, tag + '.samples.safetensors')
            extra = ['--no-ema'] if raw else []
            must(['export', '--checkpoint', run_dir, '--format', fmt, '--out', model, *extra], 'export %s %s' % (fmt, tag))
            must(['sample', '--checkpoint', run_dir, '--count', '6', '--device', 'ref', '--quiet', '--out',
                  os.path.join(tmp, tag + '.png'), '--out-tensors', tensors, *extra], 'sample %s' % tag)
            pairs.append((tag, model, tensors))
    return pairs


def check_diffs(stdout, what):
    lines = stdout.splitlines()
    check(len(lines) == 6, '%s: six models compared' % what, stdout)
    for line in lines:
        # within 1e-5, and within 1e-5 of the outputs' own scale (a model only 2 steps from its small initial
        # weights makes small values, next to which an absolute 1e-5 says little)
        _, model, diff, scale, same_shape = line.split()
        rel = float(diff) / max(float(scale), 1e-30)
        check(same_shape == 'True' and float(diff) <= 1e-5 and rel <= 1e-5,
              '%s %s: gives clgan sample\'s values (max |difference| %s, at most 1e-5; %.2g of the largest value %s, '
              'at most 1e-5)' % (what, os.path.basename(model), diff, rel, scale))


def part_onnx(tmp):
    py = onnx_python()
    if not py:
        print('skip: no Python with onnxruntime and numpy ($CLGAN_ONNX_PYTHON or .venv-onnx)')
        return 77
    pairs = exports(tmp, 'onnx', '.onnx')
    r = subprocess.run([py, '-c', ONNX_COMPARE, *['%s:%s' % (m, t) for _, m, t in pairs]], capture_output=True,
                       text=True)
    if not check(r.returncode == 0, 'onnxruntime loads every exported model and runs it', r.stdout + r.stderr):
        return 1
    checked = [l for l in r.stdout.splitlines() if l.startswith('checked ')]
    check_diffs('\n'.join(l for l in r.stdout.splitlines() if l.startswith('max_abs ')), 'onnxruntime')
    if checked:
        check(len(checked) == 6, 'onnx.checker.check_model (full_check) passes every model', r.stdout)
    else:
        print('note: the onnx package is not installed: the models were run, not checked by onnx.checker')
    a, b = (open(os.path.join(tmp, n + '.onnx'), 'rb').read() for n in ('dcgan-ema', 'dcgan-ema-raw'))
    check(a != b, 'the EMA model differs from --no-ema\'s')
    return 0


def folder_data(tmp):
    """a tiny RGB image folder (8 PNGs) for the 32x32 case"""
    from cli_check import png_write
    d = os.path.join(tmp, 'rgb')
    os.makedirs(d, exist_ok=True)
    for i in range(8):
        png_write(os.path.join(d, '%d.png' % i), bytes((i * 31 + k * 7) % 256 for k in range(32 * 32 * 3)), 32, 32, 3)
    return d


def part_torch(tmp):
    py = torch_python()
    if not py:
        print('skip: no Python with torch and safetensors ($CLGAN_TORCH_PYTHON or .venv-torch)')
        return 77
    mod = os.path.join(tmp, 'module.py')
    with open(mod, 'w') as f:
        f.write(module_source())
    pairs = exports(tmp, 'pytorch', '.safetensors')
    for tag, model, _ in pairs:
        meta = st_read(model)[1]
        want = 'g_ema' if tag == 'dcgan-ema' else 'g'
        check(meta.get('format') == 'pt' and meta.get('clgan_weights') == want,
              '%s: metadata format pt, weights %s' % (tag, want), str(meta))
    r = subprocess.run([py, '-c', COMPARE, mod, *['%s:%s' % (m, t) for _, m, t in pairs]], capture_output=True,
                       text=True)
    if not check(r.returncode == 0, 'the docs/export.md module loads every export (strict) and runs',
                 r.stdout + r.stderr):
        return 1
    check_diffs(r.stdout, 'PyTorch')
    # the EMA export is not G's own (the comparison above would pass for either otherwise)
    a, b = (st_read(os.path.join(tmp, n + '.safetensors'))[0] for n in ('dcgan-ema', 'dcgan-ema-raw'))
    check(a['main.0.weight']['data'] != b['main.0.weight']['data'], 'the EMA export differs from --no-ema\'s')
    return 0


def part_errors(tmp):
    run_dir = os.path.join(tmp, 'run')
    must(['train', '--model', 'toy', '--width', '16', '--batch-size', '8', '--steps', '1', '--device', 'ref', '--quiet',
          '--out', run_dir], 'train the toy model')
    out = os.path.join(tmp, 'G.safetensors')
    expect(['export', '--checkpoint', run_dir, '--format', 'keras', '--out', out], 2,
           err_re=r'--format keras: expected pytorch or onnx', what='an unknown --format is refused')
    expect(['export', '--checkpoint', run_dir], 2, err_re=r'--out FILE is required', what='export without --out')
    missing = os.path.join(tmp, 'no', 'such', 'dir', 'G.safetensors')
    expect(['export', '--checkpoint', run_dir, '--out', missing], 1, err_re=re.escape(os.path.join(tmp, 'no')),
           what='an output folder that does not exist: an error naming the path')
    bad = os.path.join(tmp, 'bad.safetensors')
    with open(bad, 'wb') as f:
        f.write(b'\x10\x00\x00\x00\x00\x00\x00\x00{"a":')
    expect(['export', '--checkpoint', bad, '--out', out], 1, err_re=re.escape(bad),
           what='a damaged checkpoint: an error naming it')
    check(not os.path.exists(out) and not os.path.exists(os.path.join(tmp, 'no')),
          'nothing written behind the refusals', str(os.listdir(tmp)))
    return 0


def main():
    if sys.argv[1:] == ['has-torch']:  # for the build: whether the torch part can run here
        return 0 if torch_python() else 77
    if sys.argv[1:] == ['has-onnx']:  # and the onnx part
        return 0 if onnx_python() else 77
    parts = {'torch': part_torch, 'onnx': part_onnx, 'errors': part_errors}
    if len(sys.argv) != 2 or sys.argv[1] not in parts:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory(prefix='clgan-export-') as tmp:
        rc = parts[sys.argv[1]](tmp)
    if rc == 77:
        return 77
    print('%d failed' % len(failures) if failures else 'all passed')
    return 1 if failures or rc else 0


if __name__ == '__main__':
    sys.exit(main())
