#!/usr/bin/env python3
"""Runs clgan's kernels on Oclgrind's simulated device and fails on anything
it reports: reads and writes out of bounds, data races (global and local
memory), barrier divergence, uninitialised values, OpenCL API errors.

usage: run_oclgrind.py [--only RUN] [--cases TEXT] -- TEST_OPS [TEST_OPS_CONV_CHUNKED]

Oclgrind is registered as the only OpenCL platform (a .icd file in a
temporary folder named by OCL_ICD_VENDORS), so the ICD loader, CLBlast and
clgan run as they do on any driver; its checks are turned on through its
OCLGRIND_* variables, one log file per run. The runs:

  ops         tests/test_ops (every op forward with sentinels and backward
              through its gradient graph, against ref), data races + API checks
  ops-fixed   the same from an offline program binary (clgan kernels
              --save-binary): no generated kernels, so graphs run unfused and
              sums on sum_f32
  ops-uninit, ops-uninit-fixed  the direct op calls of both, forward only,
              with --uninitialized (below)
  ops-conv-chunked  the convolution cases of the op test built with a tiny
              scratch cap (CLGAN_CONV_SCRATCH_CAP), so they run in chunks,
              with the CPU forms of im2col/col2im (CLGAN_KERNEL_FORMS=cpu) in
              their generic build (CLGAN_CONV_SPECIALISE=0)
  ops-conv-gpu-forms, ops-cpu-forms  the convolution cases with the GPU forms
              (Oclgrind's own) and the whole op test with the CPU forms
              (CLGAN_KERNEL_FORMS), shape-specialised
  ops-uninit-conv-cpu-forms  the CPU forms' direct calls with --uninitialized
  check-*     one D step and one G step of each built-in model
              (`clgan check` on tiny sizes), data races + API checks

A run fails when it exits non-zero or leaves anything in its log, with one
line per kind of report: FAIL <run>: <message> [kernel K] xN. Then every
kernel defined in cl/*.cl (CLGAN_KERNEL_DIR when set, as the programs read
it) must have been launched by some run: kernel launches are counted from
Oclgrind's per-kernel instruction counts (--inst-counts), so a new kernel
that nothing launches here fails the suite until a case exercises it.

The uninitialised-value check of Oclgrind 21.10 has two faults that make it
usable only where the host writes every buffer whole: (1) a host write at an
offset replaces the shadow of the whole buffer by one the size of the write,
so graph inputs written into a region of the arena, and every buffer after
clgan's zero fill at allocation, read as uninitialised everywhere else;
(2) it aborts a kernel on LLVM's `freeze` instruction ("Unsupported
instruction: freeze", the division/remainder pairs of the layout kernels),
which leaves the output unwritten. So the uninit runs take the direct op calls
only (test_ops writes each of their buffers whole) and builds the programs
with -cl-opt-disable, which emits no `freeze`. Memory bounds and races are
checked everywhere.

--only RUN runs one run (and skips the check that every kernel ran);
--cases TEXT runs only the op cases whose name contains TEXT (CLGAN_OPS_ONLY).
Exits 77 (skipped) when Oclgrind is not installed."""
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77

# Each run: name, what it runs ('ops': the op test, 'ops-fixed': the op test
# from a program binary, 'ops-chunked': the op test's conv-chunked build, else
# the arguments of clgan check), Oclgrind checks, extra env. The clgan check
# sizes are about the smallest each model takes: Oclgrind interprets every
# work-item, and the race detector records every access.
CHECKS = {'OCLGRIND_DATA_RACES': '1', 'OCLGRIND_CHECK_API': '1'}
UNINIT = {'OCLGRIND_UNINITIALIZED': '1', 'OCLGRIND_CHECK_API': '1', 'OCLGRIND_BUILD_OPTIONS': '-cl-opt-disable'}
FORWARD = {'CLGAN_OPS_FORWARD_ONLY': '1'}
TINY_DCGAN = ['--model', 'dcgan', '--image-size', '16', '--width', '4', '--batch-size', '2', '--channels', '1']
RUNS = [
    ('ops', 'ops', CHECKS, {}),
    ('ops-fixed', 'ops-fixed', CHECKS, {}),
    ('ops-uninit', 'ops', UNINIT, FORWARD),
    ('ops-uninit-fixed', 'ops-fixed', UNINIT, FORWARD),
    # with the im2col/col2im forms of CPU devices (Oclgrind's are a GPU's), so both run
    ('ops-conv-chunked', 'ops-chunked', CHECKS,
     {'CLGAN_OPS_ONLY': 'conv', 'CLGAN_KERNEL_FORMS': 'cpu', 'CLGAN_CONV_SPECIALISE': '0'}),
    ('ops-uninit-conv-cpu-forms', 'ops', UNINIT, dict(FORWARD, CLGAN_OPS_ONLY='conv', CLGAN_KERNEL_FORMS='cpu')),
    # both kernel forms, whichever the device would pick (src/ops/cl_linalg.c)
    ('ops-conv-gpu-forms', 'ops', CHECKS, {'CLGAN_OPS_ONLY': 'conv', 'CLGAN_KERNEL_FORMS': 'gpu'}),
    ('ops-cpu-forms', 'ops', CHECKS, {'CLGAN_KERNEL_FORMS': 'cpu'}),
    # WGAN-GP: the gradient of a gradient, layer normalisation in D
    ('check-dcgan-wgan-gp', TINY_DCGAN + ['--loss', 'wgan-gp'], CHECKS, {}),
    # the default model's size (7 -> 14 -> 28: odd sizes), class-conditional
    # (embedding, one-hot, concat), BatchNorm in D
    ('check-dcgan28-ns-conditional', ['--model', 'dcgan', '--image-size', '28', '--width', '2', '--batch-size', '2',
                                      '--channels', '1', '--loss', 'ns', '--conditional'], CHECKS, {}),
    # the CPU forms of every kernel that has two (generated sums and elementwise chains, im2col, col2im)
    ('check-dcgan28-cpu-forms', ['--model', 'dcgan', '--image-size', '28', '--width', '2', '--batch-size', '2',
                                 '--channels', '1', '--loss', 'ns'], CHECKS, {'CLGAN_KERNEL_FORMS': 'cpu'}),
    ('check-mlp-hinge', ['--model', 'mlp', '--image-size', '8', '--channels', '1', '--batch-size', '2',
                         '--loss', 'hinge'], CHECKS, {}),
    # weight clipping, the minimax loss
    ('check-toy-wgan', ['--model', 'toy', '--batch-size', '4', '--loss', 'wgan'], CHECKS, {}),
    ('check-toy-minimax-conditional', ['--model', 'toy', '--batch-size', '4', '--loss', 'minimax',
                                       '--conditional'], CHECKS, {}),
]

KERNEL_DEF = re.compile(r'\b(?:__)?kernel\b[^;{}]*?\bvoid\s+(\w+)\s*\(', re.S)
LAUNCHED = re.compile(r"^Instructions executed for kernel '(\w+)':", re.M)
INST_COUNTS = re.compile(r"^Instructions executed for kernel '\w+':\n(?: +\d+ - .*\n)*", re.M)
API_ERROR = 'Oclgrind - OpenCL runtime error detected'


def find_icd_library():
    """Oclgrind's ICD library: $OCLGRIND_ICD_LIBRARY, else beside the
    oclgrind program (<prefix>/bin -> <prefix>/lib/oclgrind), else the
    usual system folders; None when absent."""
    if os.environ.get('OCLGRIND_ICD_LIBRARY'):
        lib = os.environ['OCLGRIND_ICD_LIBRARY']
        return lib if os.path.exists(lib) else None
    exe = shutil.which('oclgrind')
    if not exe:
        return None
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
    candidates = [os.path.join(prefix, 'lib', 'oclgrind', 'liboclgrind-rt-icd.so'),
                  os.path.join(prefix, 'lib', 'liboclgrind-rt-icd.so')]
    candidates += glob.glob(os.path.join(prefix, 'lib', '*', 'oclgrind', 'liboclgrind-rt-icd.so'))
    candidates += glob.glob(os.path.join(prefix, 'lib*', 'liboclgrind-rt-icd.so'))
    return next((c for c in candidates if os.path.exists(c)), None)


def kernel_names(folder):
    names = set()
    for path in sorted(glob.glob(os.path.join(folder, '*.cl'))):
        text = re.sub(r'/\*.*?\*/|//[^\n]*', ' ', open(path).read(), flags=re.S)
        names.update(KERNEL_DEF.findall(text))
    return names


def log_reports(text):
    """(message, kernel) for every report in an Oclgrind log or stderr:
    a report is a block after a blank line, its first line the message
    (addresses dropped so that like reports count together)."""
    reports = []
    for block in re.split(r'\n\s*\n', text):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines:
            continue
        head = re.sub(r' address 0x[0-9a-f]+', '', lines[0].strip())
        kernel = next((l.split(':', 1)[1].strip() for l in lines if l.strip().startswith('Kernel:')), '')
        if head == API_ERROR:
            fn = next((l.split(':', 1)[1].strip() for l in lines if l.strip().startswith('Function:')), '?')
            err = next((l.split(':', 1)[1].strip() for l in lines if l.strip().startswith('Error:')), '?')
            head = 'OpenCL API error %s in %s' % (err, fn)
        reports.append((head, kernel))
    return reports


def run_one(name, argv, env, tmp):
    """Runs argv under the Oclgrind env with its own log; returns (ok,
    reports, kernel launches) and prints what a failure needs."""
    log = os.path.join(tmp, re.sub(r'\W', '_', name) + '.log')
    env = dict(env, OCLGRIND_LOG=log)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = 'timeout', e.stdout or '', e.stderr or ''
        out = out if isinstance(out, str) else out.decode(errors='replace')
        err = err if isinstance(err, str) else err.decode(errors='replace')
    text = open(log).read() if os.path.exists(log) else ''
    reports = log_reports(text)
    reports += [r for r in log_reports(err) if r[0].startswith('OpenCL API error')]
    if rc != 0:
        tail = '\n'.join(l for l in (INST_COUNTS.sub('', out) + err).splitlines() if l.strip())[-3000:]
        print('  %s: exit %s from %s:\n%s' % (name, rc, ' '.join(argv), tail))
    if text.strip():
        print('  %s: first report:\n%s' % (name, text.strip().split('\n\n')[0]))
    return rc == 0 and not reports, reports, collections.Counter(LAUNCHED.findall(out))


def main():
    args = sys.argv[1:]
    only = args[args.index('--only') + 1] if '--only' in args else None
    cases = args[args.index('--cases') + 1] if '--cases' in args else None
    if '--' not in args or args.index('--') + 1 >= len(args):
        sys.exit(__doc__)
    test_ops = args[args.index('--') + 1]
    rest = args[args.index('--') + 2:]
    test_ops_chunked = rest[0] if rest else None
    lib = find_icd_library()
    if not lib:
        print('oclgrind is not installed (tools/install-deps.sh installs it): skipped')
        return SKIP
    clgan = os.environ.get('CLGAN_BIN')
    kdir = os.environ.get('CLGAN_KERNEL_DIR') or os.path.join(os.environ['CLGAN_SOURCE_ROOT'], 'cl')
    defined = kernel_names(kdir)
    if not defined:
        print('FAIL no kernels found in %s/*.cl' % kdir)
        return 1

    tmp = tempfile.mkdtemp(prefix='clgan-oclgrind-')
    failed = 0
    launched = collections.Counter()
    try:
        icd_dir = os.path.join(tmp, 'vendors')
        os.mkdir(icd_dir)
        with open(os.path.join(icd_dir, 'oclgrind.icd'), 'w') as f:
            f.write(lib + '\n')
        for name, what, checks, extra in RUNS:
            if (only and name != only) or (what == 'ops-chunked' and not test_ops_chunked):
                continue
            env = dict(os.environ)
            if cases and not isinstance(what, list):
                env['CLGAN_OPS_ONLY'] = cases
            env.update(checks)
            env.update(extra)
            env.update({'OCL_ICD_VENDORS': icd_dir, 'OCLGRIND_INST_COUNTS': '1', 'OCLGRIND_MAX_ERRORS': '1000',
                        # each run compiles for its own options: the cache key
                        # does not see OCLGRIND_BUILD_OPTIONS
                        'CLGAN_CACHE_DIR': os.path.join(tmp, 'cache-' + name)})
            t0 = time.time()
            reports, mine, ok = [], collections.Counter(), True
            if what == 'ops-fixed':
                binary = os.path.join(tmp, name + '.bin')
                env['CLGAN_KERNEL_BINARY'] = binary
                ok, r, _ = run_one(name + ' (binary)', [clgan, 'kernels', '--device', 'Oclgrind', '--quiet',
                                                        '--save-binary', binary], env, tmp)
                reports += r
            if ok:
                if isinstance(what, list):
                    argv = [clgan, 'check', '--device', 'Oclgrind', '--quiet'] + what
                else:
                    argv = [test_ops_chunked if what == 'ops-chunked' else test_ops]
                ok, r, mine = run_one(name, argv, env, tmp)
                reports += r
            launched.update(mine)
            print('%-4s %-30s %6.1f s  %5d launches of %2d kernels  %d reports' %
                  ('ok' if ok else 'FAIL', name, time.time() - t0, sum(mine.values()), len(mine), len(reports)))
            for (head, kernel), n in sorted(collections.Counter(reports).items()):
                print('FAIL %s: %s%s x%d' % (name, head, ' [kernel %s]' % kernel if kernel else '', n))
            failed += not ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ours = {k: launched[k] for k in sorted(defined)}
    other = sorted(set(launched) - defined)
    print('launches under Oclgrind of each kernel in %s/*.cl:' % kdir)
    for k, n in ours.items():
        print('  %-32s %6d' % (k, n))
    # CLBlast's kernels, and kernels that clgan generates (named by a hash)
    hashed = [k for k in other if re.search(r'_[0-9a-f]{16}$', k)]
    named = [k for k in other if k not in hashed]
    chains = [k for k in hashed if k.startswith('fc_')]
    print('kernels from outside cl/*.cl: %s; %d generated kernels (%d launches), %d of them chains (%d launches)' %
          (', '.join('%s %d' % (k, launched[k]) for k in named) or 'none', len(hashed),
           sum(launched[k] for k in hashed), len(chains), sum(launched[k] for k in chains)))
    if not only:
        never = [k for k, n in ours.items() if n == 0]
        for k in never:
            print('FAIL kernel %s (defined in %s/*.cl) was never launched under Oclgrind' % (k, kdir))
        failed += len(never)
    print('%d failures' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
