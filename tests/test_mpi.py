#!/usr/bin/env python3
"""Data-parallel training under mpirun (suite 'mpi'; include/clgan/dist.h).

    test_mpi.py equivalence  N processes x B/N samples give one process's parameters after K steps (toy and MLP
                             models, no BatchNorm; SGD), for N = 2 and 3 (an uneven split), within 1e-6 (see below)
    test_mpi.py sync         --check-sync 1: the ranks' parameters agree bit for bit after every step
    test_mpi.py syncbn       --sync-bn: a DCGAN (BatchNorm in G and D) on 2 and 3 ranks gives one process's
                             parameters and running statistics (13 split unevenly); without it (per-rank statistics) it does not
    test_mpi.py writer       rank 0 alone writes the run folder: one config.json, one log line per logged step
                             (with ranks and allreduce_ms), the checkpoints; batch too small for the ranks refused
    test_mpi.py resume       a run trained on 2 ranks resumes on 1 and on 3 and continues as 2 would
    test_mpi.py faults       a rank that cannot open its device, and a rank killed mid-run, end the whole job
                             (no hang) with the rank named; the last checkpoint stays whole and resumes

Exits 77 when clgan was built without MPI or mpirun is missing. Runs on the
ref device (bit-exact arithmetic, so the only differences between N and 1
processes are the sums' order). Every process of a 2-core machine is
oversubscribed; as root Open MPI needs its allow-run-as-root settings, which
this script sets.

The tolerance: the processes sum their parts' gradients, each weighted by
its share, where one process sums the whole batch, so every gradient differs
by float reassociation (a few ulps, ~1e-7 relative). With SGD (lr 0.01) a
parameter then moves by lr times that per step: after K = 6 steps the
parameters of N and 1 processes differ by ~1e-9 absolute; 1e-6 (times
max(1, |p|)) is far above that and far below what a wrong part of the data or
of the noise gives (~1e-3: a whole sample's gradient)."""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from cli_check import BIN, check, failures, st_read

MPIRUN = shutil.which('mpirun')
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT='1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM='1', OMPI_MCA_rmaps_base_oversubscribe='1')
for k in ('CLGAN_DEVICE', 'CLGAN_KERNEL_DIR'):
    ENV.pop(k, None)
TOL = 1e-6


def clgan(args, ranks=None, timeout=300):
    """clgan ARGS, under mpirun -np RANKS when ranks is given: (exit status, stdout + stderr)."""
    cmd = ([MPIRUN, '-np', str(ranks), '--oversubscribe'] if ranks else []) + [BIN] + args
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def params(run_dir):
    """{name: list of floats} of the run's latest checkpoint (its float tensors)"""
    t, _ = st_read(os.path.join(run_dir, 'latest'))
    out = {}
    for name, v in t.items():
        if v['dtype'] == 'F32':
            out[name] = list(struct.unpack('<%df' % (len(v['data']) // 4), v['data']))
    return out


def worst_diff(a, b):
    """the largest |a - b| / max(1, |a|) over the tensors both hold, and where"""
    worst, where = 0.0, ''
    for name in a:
        if name not in b or len(a[name]) != len(b[name]):
            return float('inf'), name + ' (missing or a different size)'
        for x, y in zip(a[name], b[name]):
            d = abs(x - y) / max(1.0, abs(x))
            if d > worst or d != d:
                worst, where = d, name
    return worst, where


def train(out, args, ranks=None, steps=6):
    code, text = clgan(['train', *args, '--steps', str(steps), '--out', out, '--device', 'ref', '--quiet'], ranks)
    check(code == 0, '%s on %s: clgan train exits 0' % (' '.join(args), '%d ranks' % ranks if ranks else '1 process'),
          text[-3000:])
    return code == 0


MODELS = [['--model', 'toy', '--dataset', 'ring8', '--batch-size', '64', '--optimizer', 'sgd', '--lr', '0.01'],
          ['--model', 'mlp', '--widths', '64,64', '--batch-size', '48', '--optimizer', 'sgd', '--lr', '0.01',
           '--loss', 'hinge']]


def part_equivalence(tmp):
    for m, args in enumerate(MODELS):
        one = os.path.join(tmp, 'one%d' % m)
        if not train(one, args):
            continue
        for ranks in (2, 3):
            many = os.path.join(tmp, 'many%d_%d' % (m, ranks))
            if not train(many, args, ranks):
                continue
            worst, where = worst_diff(params(one), params(many))
            check(worst <= TOL, '%s: %d ranks x %s/%d give 1 process x %s\'s parameters after 6 steps: worst '
                  'relative difference %.3g (%s), tolerance %g' % (args[1], ranks, args[5], ranks, args[5], worst,
                                                                  where, TOL))
    # the comparison can fail: another seed's parameters (as a wrong part of the noise would give) differ
    other = os.path.join(tmp, 'other')
    if train(other, MODELS[0] + ['--seed', '2'], 2):
        worst, _ = worst_diff(params(os.path.join(tmp, 'one0')), params(other))
        check(worst > 100 * TOL, 'another seed on 2 ranks differs by %.3g, far above the tolerance' % worst)


def part_sync(tmp):
    for ranks in (2, 3):
        out = os.path.join(tmp, 'sync%d' % ranks)
        code, text = clgan(['train', *MODELS[1], '--steps', '4', '--out', out, '--device', 'ref', '--quiet',
                            '--check-sync', '1'], ranks)
        check(code == 0 and 'differ' not in text, '--check-sync 1 on %d ranks: the parameters agree after every step'
              % ranks, text[-3000:])


DCGAN = ['--model', 'dcgan', '--width', '4', '--batch-size', '13', '--optimizer', 'sgd', '--lr', '0.01']


def part_syncbn(tmp):
    one = os.path.join(tmp, 'bn1')
    if not train(one, DCGAN, steps=3):
        return
    for ranks in (2, 3):
        many = os.path.join(tmp, 'bn%d' % ranks)
        if not train(many, DCGAN + ['--sync-bn'], ranks, steps=3):
            continue
        worst, where = worst_diff(params(one), params(many))
        check(worst <= TOL, 'dcgan --sync-bn: %d ranks x 13/%d (uneven) give 1 process x 13\'s parameters and statistics '
              'after 3 steps: worst relative difference %.3g (%s)' % (ranks, ranks, worst, where))
    per_rank = os.path.join(tmp, 'bn_local')
    if train(per_rank, DCGAN, 2, steps=3):
        worst, where = worst_diff(params(one), params(per_rank))
        check(worst > 100 * TOL, 'dcgan without --sync-bn (per-rank statistics) differs on 2 ranks: %.3g (%s)' %
              (worst, where))


def part_writer(tmp):
    out = os.path.join(tmp, 'writer')
    if not train(out, MODELS[1] + ['--log-every', '1', '--checkpoint-every', '2'], 3, steps=4):
        return
    with open(os.path.join(out, 'log.jsonl')) as f:
        rows = [json.loads(line) for line in f]
    check([r['step'] for r in rows] == [1, 2, 3, 4], 'one log line per step, written once: %s' %
          [r['step'] for r in rows])
    check(all(r.get('ranks') == 3 and r.get('allreduce_ms', -1) >= 0 for r in rows),
          'log lines name 3 ranks and the all-reduce time', repr(rows[:1]))
    ckpts = sorted(os.listdir(os.path.join(out, 'checkpoints')))
    check(ckpts == ['step_00000002.safetensors', 'step_00000004.safetensors'], 'the checkpoints: %s' % ckpts)
    leftovers = [f for f in os.listdir(os.path.join(out, 'checkpoints')) + os.listdir(out) if '.tmp' in f]
    check(not leftovers, 'no temporary files left: %s' % leftovers)
    code, text = clgan(['train', '--model', 'mlp', '--batch-size', '2', '--steps', '1', '--out',
                        os.path.join(tmp, 'small'), '--device', 'ref', '--quiet'], 3)
    check(code != 0 and 'over 3 processes' in text, 'a batch of 2 over 3 ranks is refused', text[-2000:])


def part_resume(tmp):
    args = MODELS[1]
    straight = os.path.join(tmp, 'straight')
    if not train(straight, args, 2, steps=6):
        return
    for ranks in (None, 3):
        half = os.path.join(tmp, 'half%s' % ranks)
        if not train(half, args, 2, steps=3):
            continue
        cmd = ['train', '--resume', half, '--steps', '6', '--device', 'ref', '--quiet']
        code, text = clgan(cmd, ranks)
        if not check(code == 0, 'resume of a 2-rank run on %s exits 0' % ('%d ranks' % ranks if ranks else '1 process'),
                     text[-3000:]):
            continue
        worst, where = worst_diff(params(straight), params(half))
        check(worst <= TOL, '3 steps on 2 ranks + 3 on %s = 6 on 2 ranks: worst relative difference %.3g (%s)' %
              ('%d ranks' % ranks if ranks else '1 process', worst, where))


def rank_pid(out, rank):
    """the pid of the clgan process of `rank` training into out"""
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read().split(b'\0')
            with open('/proc/%s/environ' % pid, 'rb') as f:
                env = f.read().split(b'\0')
        except OSError:
            continue
        if cmd and cmd[0].endswith(b'clgan') and out.encode() in cmd and \
                ('OMPI_COMM_WORLD_RANK=%d' % rank).encode() in env:
            return int(pid)
    return None


def part_faults(tmp):
    # rank 1 of 2 cannot open its device (item 2 of the --device list)
    code, text = clgan(['train', *MODELS[0], '--steps', '3', '--out', os.path.join(tmp, 'nodev'), '--device',
                        'ref,no-such-device', '--quiet'], 2, timeout=120)
    check(code != 0 and 'rank 1 of 2' in text and 'no-such-device' in text,
          'a rank without its device ends the job, naming the rank and the device', text[-3000:])
    # a rank killed mid-run
    out = os.path.join(tmp, 'killed')
    cmd = [MPIRUN, '-np', '2', '--oversubscribe', BIN, 'train', *MODELS[1], '--steps', '100000', '--out', out,
           '--device', 'ref', '--quiet', '--checkpoint-every', '2']
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    deadline = time.time() + 120
    while time.time() < deadline and not os.path.exists(os.path.join(out, 'latest')):
        time.sleep(0.2)
    time.sleep(1.0)
    pid = rank_pid(out, 1)
    if not check(pid is not None, 'rank 1 is running, with a checkpoint written'):
        p.kill()
        p.communicate()
        return
    os.kill(pid, signal.SIGKILL)
    t0 = time.time()
    try:
        text, _ = p.communicate(timeout=60)
        ended = True
    except subprocess.TimeoutExpired:
        p.kill()
        text, _ = p.communicate()
        ended = False
    check(ended and p.returncode != 0, 'killing rank 1 ends the job (exit %s) in %.1f s, no hang' %
          (p.returncode, time.time() - t0), (text or '')[-3000:])
    check(p.returncode != 0 and ('rank 1' in (text or '') or 'signal 9' in (text or '') or 'Killed' in (text or '')),
          'the job says which rank died', (text or '')[-3000:])
    code, text = clgan(['train', '--resume', out, '--steps', '1', '--device', 'ref', '--quiet'], timeout=120)
    step = params(out) if code == 0 else None
    check(code == 0 and step is not None, 'the last checkpoint is whole: the run resumes from it', text[-3000:])


PARTS = {'equivalence': part_equivalence, 'sync': part_sync, 'syncbn': part_syncbn, 'writer': part_writer,
         'resume': part_resume, 'faults': part_faults}


def main():
    if not MPIRUN:
        print('skip: mpirun is not installed (openmpi-bin)')
        return 77
    if os.environ.get('CLGAN_MPI_BUILT') != '1':
        print('skip: clgan was built without MPI (meson option mpi; libopenmpi-dev)')
        return 77
    with open(os.devnull, 'w') as null:
        probe = subprocess.run([MPIRUN, '-np', '2', '--oversubscribe', BIN, 'devices'], stdout=null, stderr=null,
                               env=ENV, timeout=120)
    if probe.returncode != 0:
        print('skip: mpirun -np 2 cannot start processes here')
        return 77
    names = sys.argv[1:] or list(PARTS)
    tmp = tempfile.mkdtemp(prefix='clgan-mpi-')
    try:
        for name in names:
            PARTS[name](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failures' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
