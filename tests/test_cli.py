#!/usr/bin/env python3
"""Command-line tests of device selection, kernel building and the cache.

Runs the real clgan binary ($CLGAN_BIN). Checks that need an OpenCL device run
only when one exists; if none does, the test exits 77 (skipped) after the
checks that need none have passed."""
import os
import re
import shutil
import sys
import tempfile

from cli_check import check, expect, failures, run

SRC = os.environ['CLGAN_SOURCE_ROOT']

tmp = tempfile.mkdtemp(prefix='clgan-cli-')
cache = os.path.join(tmp, 'cache')
os.environ['CLGAN_CACHE_DIR'] = cache

# --- no device needed ---
expect(['--help'], 0, out_re=r'devices')
expect(['nonsense'], 2, err_re=r"unknown command 'nonsense'")
expect(['devices', '--bogus'], 2, err_re=r"unknown option '--bogus'")
expect(['devices', '--device'], 2, err_re=r'needs a value')
_, out, _ = expect(['devices'], 0, out_re=r'ref\s+REF')
has_cl = re.search(r'^[* ] \d+:\d+ ', out, re.M) is not None

# No OpenCL platform at all: a clear note, and ref still works.
noicd = os.path.join(tmp, 'no-vendors')
os.mkdir(noicd)
env = {'OCL_ICD_VENDORS': noicd}
expect(['devices'], 0, out_re=r'\* ref.*note: no OpenCL platform found', env=env, what='devices without any platform')
expect(['kernels', '--device', 'cpu'], 1, err_re=r'no CPU device found.*available devices:.*ref', env=env,
       what='--device cpu without any platform')
expect(['kernels'], 0, err_re=r'using device ref .*by default.*no OpenCL platform found', env=env,
       what='default falls back to ref without any platform')
expect(['kernels', '--device', 'ref'], 0, out_re=r'kernels ready on ref', env=env)

if not has_cl:
    print('no OpenCL device: skipping the device checks')
    shutil.rmtree(tmp)
    sys.exit(1 if failures else 77)

# --- with an OpenCL device ---
first = re.search(r'^[* ] (\d+:\d+) +(\w+) +(.*)$', out, re.M)
dev_id, dev_type, dev_name = first.group(1), first.group(2), first.group(3).strip()
word = max(re.findall(r'[A-Za-z]{4,}', dev_name), key=len)

expect(['devices', '--device', 'list'], 0, out_re=re.escape(dev_id) + r'.*ref')
expect(['kernels', '--device', 'list'], 0, out_re=r'global memory .* compute units')
for spec in ['ref', dev_id, dev_type.lower(), word.lower(), word.upper()]:
    expect(['kernels', '--device', spec, '--no-kernel-cache'], 0, out_re=r'kernels ready on ',
           err_re=r'using device ', what='--device ' + spec)
expect(['kernels', '--no-kernel-cache'], 0, err_re=r'by default', what='default device is announced')
expect(['kernels', '--no-kernel-cache'], 0, env={'CLGAN_DEVICE': 'ref'}, out_re=r'kernels ready on ref',
       what='CLGAN_DEVICE=ref')
expect(['kernels', '--no-kernel-cache', '--device', dev_id], 0, env={'CLGAN_DEVICE': 'ref'},
       out_re=r'kernels ready on ' + re.escape(dev_id), what='--device wins over CLGAN_DEVICE')
expect(['devices', '--device', '99:0'], 1, err_re=r'no device 0 on platform 99.*available devices:.*ref')
expect(['devices', '--device', 'no-such-device-name'], 1, err_re=r'no device of that name.*available devices:')
expect(['devices', '--device', 'e'], 1, err_re=r'matches \d+ devices.*available devices:',
       what='ambiguous --device e (matches ref and the OpenCL device)')
missing_type = next(t for t in ['gpu', 'accelerator', 'cpu', 'custom'] if t.upper() not in out)
expect(['devices', '--device', missing_type], 1, err_re=r'no %s device found' % missing_type.upper())

# The cache: a first start builds every program, a second builds none.
expect(['kernels', '--device', dev_id], 0, out_re=r'(\d+) programs, \1 built, 0 from cache',
              what='first start builds every program')
_, o, _ = expect(['kernels', '--device', dev_id], 0, out_re=r'(\d+) programs, 0 built, \1 from cache',
              what='second start builds none')
entries = sorted(os.listdir(cache))
with open(os.path.join(cache, entries[0]), 'r+b') as f:
    f.seek(-1, 2)
    b = f.read(1)
    f.seek(-1, 2)
    f.write(bytes([b[0] ^ 0xff]))
expect(['kernels', '--device', dev_id], 0, out_re=r'1 built, \d+ from cache, 1 cache entries rebuilt',
       err_re=r'corrupt \(checksum mismatch\); rebuilding', what='a corrupted cache entry is rebuilt')
expect(['kernels', '--device', dev_id], 0, out_re=r'0 built, \d+ from cache, 0 cache entries rebuilt',
       what='and the rebuilt entry is used next time')

# A broken kernel from --kernel-dir: its build log, with the file name, and a failure.
kdir = os.path.join(tmp, 'cl')
shutil.copytree(os.path.join(SRC, 'cl'), kdir)
with open(os.path.join(kdir, 'elementwise.cl'), 'a') as f:
    f.write('\n__kernel void oops(__global float *y) { y[0] = not_declared_here; }\n')
expect(['kernels', '--device', dev_id, '--kernel-dir', kdir], 1,
       err_re=r'elementwise\.cl failed to build.*build log:.*not_declared_here', what='broken kernel shows build log')
expect(['kernels', '--device', dev_id], 1, env={'CLGAN_KERNEL_DIR': kdir}, err_re=r'not_declared_here',
       what='CLGAN_KERNEL_DIR is read')

# Offline binary round trip, and a binary that does not fit.
binf = os.path.join(tmp, 'all.bin')
expect(['kernels', '--device', dev_id, '--save-binary', binf], 0, out_re=r'wrote program binary')
expect(['kernels', '--device', dev_id, '--kernel-binary', binf], 0, out_re=r'1 programs, 0 built')
junk = os.path.join(tmp, 'junk.bin')
with open(junk, 'wb') as f:
    f.write(os.urandom(4096))
expect(['kernels', '--device', dev_id, '--kernel-binary', junk], 1, err_re=r'junk\.bin: not a usable program binary')

shutil.rmtree(tmp)
print('%d failed' % len(failures))
sys.exit(1 if failures else 0)
