#!/usr/bin/env python3
"""Command-line tests of `clgan train`, `clgan sample` and `clgan check` (suite 'train').

    test_train_cli.py inputs      bad options, data sets and run folders: exit status and a clear message
    test_train_cli.py divergence  NaN/Inf stops with the step and the last good checkpoint; --on-nan rollback
                                  rolls back, halves the learning rates and leaves a usable run folder
    test_train_cli.py schedule    --lr-schedule linear/step: the rate each step used, in log.jsonl; resume keeps it;
                                  the toy model's --widths
    test_train_cli.py check       clgan check passes on the OpenCL device and fails, naming the layers,
                                  on deliberately broken kernels (77 without an OpenCL device)
    test_train_cli.py resume      2N steps == N steps + --resume N more, bit for bit, on ref (nine configurations);
                                  a tensor changed half-way changes the end (the comparison can fail)
    test_train_cli.py checkpoints damaged and foreign checkpoints refused by clgan sample with messages naming file
                                  and field
    test_train_cli.py run_folder  config.json, log.jsonl, sample PNGs, scatter plots, latest, pruning, clgan sample
    test_train_cli.py ema         --g-ema: the average after each step is the rule's, of G's weights; the running
                                  statistics are G's; sample uses it and --no-ema G's own; refusals
    test_train_cli.py spectral    --d-norm spectral: weight_orig, u and v in the checkpoint, u moving and unit; refusals
    test_train_cli.py augment     --augment: in config.json, reproducible, changes training; refusals
    test_train_cli.py r1          --r1/--r1-every: in config.json, the lazy schedule in log.jsonl; refusals
    test_train_cli.py stop        SIGINT/SIGTERM: the step finishes, a checkpoint and latest are written, exit 130/143,
                                  the run resumes; a second SIGINT quits at once, leaving whole checkpoints

Runs the real clgan binary ($CLGAN_BIN) on the ref device unless a part needs
an OpenCL device. Every check prints 'ok' or 'FAIL' with the command's output;
the program exits 1 if any failed. A crash (a signal or a sanitizer abort)
never passes: every expectation names the exact exit status."""
import json
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

from cli_check import (BIN, check, expect, failures, grid_size, has, must, png_read, run, st_read, st_write,
                       write_tiny_idx)

SRC = os.environ['CLGAN_SOURCE_ROOT']


def idx_images(path, n=20, rows=28, cols=28):
    with open(path, 'wb') as f:
        f.write(struct.pack('>IIII', 0x803, n, rows, cols))
        f.write(bytes((i * 37 + k) % 256 for i in range(n) for k in range(rows * cols)))


def idx_labels(path, n=20):
    with open(path, 'wb') as f:
        f.write(struct.pack('>II', 0x801, n))
        f.write(bytes(i % 10 for i in range(n)))


def log_rows(run_dir):
    with open(os.path.join(run_dir, 'log.jsonl')) as f:
        return [json.loads(line) for line in f if line.strip()]


TOY = ['--model', 'toy', '--batch-size', '32', '--width', '32', '--device', 'ref', '--sample-every', '0']


# ---------------------------------------------------------------------------
# inputs: what a user gets wrong. Fails when a mistake is accepted, crashes,
# exits with the wrong status (2 for a usage error, 1 for a run that cannot
# start) or the message does not say what and where.
# ---------------------------------------------------------------------------
def part_inputs(tmp):
    out = os.path.join(tmp, 'run')
    usage = [
        (['--model', 'gan9000'], r"model 'gan9000': expected mlp, dcgan or toy"),
        (['--loss', 'l2'], r"loss 'l2': expected minimax, ns, wgan, wgan-gp or hinge"),
        (['--model', 'dcgan', '--image-size', '30'], r'DCGAN image size 30: expected 28, or a power of two'),
        (['--model', 'dcgan', '--channels', '2'], r'2 image channels, expected 1 or 3'),
        (['--optimizer', 'adagrad'], r"--optimizer adagrad: expected adam, sgd or rmsprop"),
        (['--d-norm', 'group'], r'--d-norm group: expected batch, layer, none or spectral'),
        (['--on-nan', 'ignore'], r'--on-nan ignore: expected stop or rollback'),
        (['--model', 'mlp', '--widths', '32,x'], r'--widths'),
        (['--steps', '0'], r'--steps 0: expected an integer in \[1, '),
        (['--batch-size', 'many'], r'--batch-size many: expected an integer'),
        (['--lr', 'fast'], r'--lr fast: expected a finite number'),
        (['--lr', 'nan'], r'--lr nan: expected a finite number'),
        (['--bogus'], r"unknown option '--bogus'"),
        (['--lr-schedule', 'cosine'], r'--lr-schedule cosine: expected constant, linear or step'),
        (['--lr-decay-start', '5'], r'--lr-decay-start and --lr-decay-factor need --lr-schedule linear or step'),
        (['--lr-schedule', 'step', '--lr-decay-factor', '1.5'], r'--lr-decay-factor 1.5: expected a number in \[0, 1\]'),
        (['--lr-schedule', 'linear', '--steps', '10', '--lr-decay-start', '11'],
         r'--lr-decay-start 11 is past the last step \(--steps 10\)'),
    ]
    for args, msg in usage:
        expect(['train', *args, '--device', 'ref', '--out', out], 2, err_re=msg)
    check(not os.path.exists(out), 'a usage error creates no run folder')

    # data sets that are not there, not known or not what the model takes
    expect(['train', '--dataset', 'imagenet', '--device', 'ref', '--out', out], 1,
           err_re=r'unknown data set "imagenet": expected fashion-mnist, mnist, idx, cifar10, folder, ring8 or grid25')
    missing = os.path.join(tmp, 'no', 'such', 'folder')
    expect(['train', '--dataset', 'mnist', '--data', missing, '--device', 'ref', '--out', out], 1,
           err_re=r'mnist: no train-images-idx3-ubyte.* in ' + re.escape(missing),
           what='--dataset mnist --data MISSING says where it looked')
    data_dir = os.path.join(tmp, 'empty-data-dir')
    os.mkdir(data_dir)
    expect(['train', '--dataset', 'mnist', '--device', 'ref', '--out', out], 1, env={'CLGAN_DATA_DIR': data_dir},
           err_re=re.escape(os.path.join(data_dir, 'mnist')) + r'.*datasets/fetch\.sh mnist',
           what='--dataset mnist without --data says where it looked and how to get it')
    if not os.path.exists('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'):
        expect(['train', '--dataset', 'fashion-mnist', '--device', 'ref', '--out', out], 1,
               env={'CLGAN_DATA_DIR': data_dir}, err_re=r'/usr/share/datasets/fashion-mnist.*dataset-fashion-mnist',
               what='the default data set, absent, names the Debian package')
    expect(['train', '--dataset', 'idx', '--device', 'ref', '--out', out], 1, err_re=r'idx: a path to the images file')
    nofile = os.path.join(tmp, 'nothing-images-idx3-ubyte')
    expect(['train', '--dataset', 'idx', '--data', nofile, '--device', 'ref', '--out', out], 1,
           err_re=re.escape(nofile), what='--dataset idx with a missing file names it')
    # corrupt idx files: a few bytes; a header promising more images than the file holds; broken gzip
    bad = os.path.join(tmp, 'short-images-idx3-ubyte')
    with open(bad, 'wb') as f:
        f.write(b'\x00\x00\x08\x03\x00\x00')
    expect(['train', '--dataset', 'idx', '--data', bad, '--device', 'ref', '--out', out], 1,
           err_re=r'clgan: error: .*' + re.escape(bad), what='a 6-byte idx file is refused, naming the file')
    bad = os.path.join(tmp, 'lying-images-idx3-ubyte')
    with open(bad, 'wb') as f:
        f.write(struct.pack('>IIII', 0x803, 1000, 28, 28) + bytes(28 * 28 * 3))
    expect(['train', '--dataset', 'idx', '--data', bad, '--device', 'ref', '--out', out], 1,
           err_re=re.escape(bad) + r'.*1000', what='an idx header promising more images than the file holds')
    bad = os.path.join(tmp, 'broken-images-idx3-ubyte.gz')
    with open(bad, 'wb') as f:
        f.write(b'\x1f\x8b\x08\x00' + bytes(range(40)))
    expect(['train', '--dataset', 'idx', '--data', bad, '--device', 'ref', '--out', out], 1,
           err_re=re.escape(bad), what='a broken gzip idx file is refused, naming the file')
    bad = os.path.join(tmp, 'bad-images-idx3-ubyte')
    idx_images(bad, n=20)
    with open(os.path.join(tmp, 'bad-labels-idx1-ubyte'), 'wb') as f:
        f.write(struct.pack('>II', 0x801, 20) + bytes([3] * 19 + [200]))
    expect(['train', '--dataset', 'idx', '--data', bad, '--device', 'ref', '--out', out], 1,
           err_re=r'bad-labels-idx1-ubyte.*200', what='a label file with a label of 200 is refused, naming it')
    # data that does not fit the model
    good = os.path.join(tmp, 'good-images-idx3-ubyte')
    idx_images(good, n=20)
    expect(['train', '--model', 'toy', '--dataset', 'idx', '--data', good, '--device', 'ref', '--out', out], 1,
           err_re=r'dataset idx does not fit model toy')
    expect(['train', '--model', 'dcgan', '--dataset', 'ring8', '--device', 'ref', '--out', out], 2,
           err_re=r'--dataset ring8 is 2-D points, which only --model toy trains \(not dcgan\)',
           what='--dataset ring8 with an image model says which model 2-D points take')
    expect(['train', '--dataset', 'ring8', '--steps', '2', '--batch-size', '32', '--sample-every', '0',
            '--device', 'ref', '--out', os.path.join(tmp, 'ring8-default')], 0,
           err_re=r'starting toy run: ns on ring8', what='--dataset ring8 alone trains the toy model')
    check(os.path.exists(os.path.join(tmp, 'ring8-default', 'checkpoints', 'step_00000002.safetensors')),
          '--dataset ring8 alone wrote its checkpoint')
    # output folders that do not exist yet are created, as the run folder is
    small = os.path.join(tmp, 'small-run')
    expect(['train', '--model', 'mlp', '--dataset', 'idx', '--data', good, '--batch-size', '4', '--steps', '1',
            '--sample-every', '0', '--device', 'ref', '--out', small], 0)
    nested = os.path.join(tmp, 'not', 'yet', 'there')
    expect(['sample', '--checkpoint', small, '--device', 'ref', '--count', '3', '--out-dir', nested], 0,
           out_re=r'wrote 3 images', what='sample --out-dir creates a folder that does not exist')
    check(sorted(os.listdir(nested)) == ['000000.png', '000001.png', '000002.png'], 'sample --out-dir wrote 3 PNGs')
    grid = os.path.join(tmp, 'also', 'new', 'grid.png')
    expect(['sample', '--checkpoint', small, '--device', 'ref', '--count', '3', '--out', grid], 0,
           what='sample --out creates its folder')
    check(os.path.isfile(grid), 'sample --out wrote the grid in a new folder')
    expect(['train', '--model', 'dcgan', '--conditional', '--dataset', 'idx', '--data', good, '--device', 'ref',
            '--out', out], 1, err_re=r'conditional model with 10 classes needs labels.*idx has none',
           what='--conditional on unlabelled data')
    expect(['train', '--model', 'dcgan', '--dataset', 'idx', '--data', good, '--batch-size', '64', '--device', 'ref',
            '--out', out], 1, err_re=r'has 20 samples, fewer than a batch of 64')

    # --resume on something that is not a run, and changing a run on --resume
    notrun = os.path.join(tmp, 'not-a-run')
    os.mkdir(notrun)
    expect(['train', '--resume', notrun, '--device', 'ref'], 1,
           err_re=re.escape(notrun) + r'/latest: no latest checkpoint.*is ' + re.escape(notrun) +
           r' a clgan run folder that has written one\?', what='--resume on a folder that is not a run')
    expect(['train', '--resume', os.path.join(tmp, 'nowhere'), '--device', 'ref'], 1,
           err_re=r'nowhere/latest: no latest checkpoint', what='--resume on a folder that does not exist')
    dangling = os.path.join(tmp, 'dangling')
    os.mkdir(dangling)
    os.symlink('checkpoints/step_00000007.safetensors', os.path.join(dangling, 'latest'))
    expect(['train', '--resume', dangling, '--device', 'ref'], 1,
           err_re=r'dangling/checkpoints/step_00000007\.safetensors', what='--resume with latest pointing nowhere')
    run_dir = os.path.join(tmp, 'toy-run')
    expect(['train', *TOY, '--steps', '3', '--out', run_dir, '--quiet'], 0)
    for args in (['--model', 'dcgan'], ['--model', 'toy'], ['--loss', 'hinge'], ['--lr', '1e-3'], ['--seed', '2'],
                 ['--batch-size', '8'], ['--conditional'], ['--dataset', 'grid25']):
        expect(['train', '--resume', run_dir, *args, '--steps', '6', '--device', 'ref'], 2,
               err_re=r'--%s cannot change on --resume' % args[0][2:])
    rows = log_rows(run_dir)
    check(len(rows) == 1 and rows[-1]['step'] == 3, 'refused resumes leave the run untouched', repr(rows))
    # and a resume that is allowed continues to the new target
    expect(['train', '--resume', run_dir, '--steps', '5', '--device', 'ref', '--quiet'], 0)
    rows = log_rows(run_dir)
    check([r['step'] for r in rows] == [3, 5], '--resume --steps 5 continues to step 5', repr(rows))
    check(os.readlink(os.path.join(run_dir, 'latest')) == 'checkpoints/step_00000005.safetensors',
          'latest moves to the resumed run\'s checkpoint')


# ---------------------------------------------------------------------------
# divergence: fails when NaN/Inf goes unnoticed, the error does not name the
# step and the last good checkpoint, rollback does not happen or does not
# halve the learning rates, or the run folder is left unusable.
# ---------------------------------------------------------------------------
def part_divergence(tmp):
    # Adam moves every weight by about lr on its first step: lr 1e3 overflows at step 3
    d = os.path.join(tmp, 'stop')
    code, _, err = expect(['train', *TOY, '--lr', '1e3', '--steps', '20', '--log-every', '1', '--checkpoint-every', '1',
                           '--out', d], 1,
                          err_re=r'clgan: error: training diverged at step 3: .*(inf|nan).*the last good checkpoint is ' +
                          re.escape(d) + r'/checkpoints/step_00000002\.safetensors',
                          what='--lr 1e3 stops at step 3 naming the last good checkpoint')
    check(os.readlink(os.path.join(d, 'latest')) == 'checkpoints/step_00000002.safetensors',
          'latest is the last good checkpoint after a divergence')
    rows = log_rows(d)
    check([r['step'] for r in rows] == [1, 2], 'the log holds the steps before the divergence', repr(rows))
    png = os.path.join(tmp, 'after-stop.png')
    expect(['sample', '--checkpoint', d, '--device', 'ref', '--count', '100', '--out', png], 0, out_re=r'step 2\)',
           what='the stopped run\'s latest checkpoint loads')
    # no checkpoint yet; and a learning rate that makes NaN in the first step
    d = os.path.join(tmp, 'stop-early')
    expect(['train', *TOY, '--lr-d', '1e30', '--steps', '20', '--out', d], 1,
           err_re=r'training diverged at step 1: .*(nan|inf).*no checkpoint was written yet',
           what='--lr-d 1e30 stops at step 1, saying no checkpoint was written')
    # rollback needs a checkpoint: without one it stops as --on-nan stop does
    d = os.path.join(tmp, 'rollback-early')
    expect(['train', *TOY, '--lr-d', '1e30', '--steps', '20', '--on-nan', 'rollback', '--out', d], 1,
           err_re=r'training diverged at step 1: .*no checkpoint was written yet', err_not=r'rolled back',
           what='--on-nan rollback with no checkpoint to go back to stops')

    # SGD at lr 0.1 grows the toy GAN's weights until they overflow (at step
    # 34 on ref); rolling back to the last checkpoint with half the rate, and
    # then a quarter, gets it through to the end. The checks below hold for
    # any trajectory: should another platform's rounding need all 8 rollbacks
    # and still fail, the run must stop as --on-nan stop does.
    d = os.path.join(tmp, 'rollback')
    lr = 0.1
    code, _, err = run('train', *TOY, '--batch-size', '64', '--width', '128', '--optimizer', 'sgd', '--lr', str(lr),
                       '--steps', '40', '--log-every', '1', '--checkpoint-every', '5', '--keep-checkpoints', '10',
                       '--on-nan', 'rollback', '--out', d)
    detail = 'rc=%d\nstderr:\n%s' % (code, err)
    backs = [int(k) for k in re.findall(r'rolled back to \S+ \(step (\d+)\), learning rates halved', err)]
    check((code == 0 or (code == 1 and len(backs) == 8 and 'training diverged at step' in err)) and
          not re.search(r'Sanitizer|runtime error:', err),
          '--on-nan rollback finishes (or, after 8 rollbacks, stops with the usual message)', detail)
    check(len(backs) >= 1 and re.search(r'rolled back to ' + re.escape(d) + r'/checkpoints/step_\d{8}\.safetensors', err),
          '%d rollback(s) to checkpoints at steps %s' % (len(backs), backs), detail)
    rows = log_rows(d)
    steps = [r['step'] for r in rows]
    scales = [r['lr_g'] / lr for r in rows]
    check(all(r['lr_g'] == r['lr_d'] for r in rows), 'lr_g and lr_d move together', repr(rows))
    check(scales[0] == 1.0 and all(b <= a for a, b in zip(scales, scales[1:])),
          'the learning rate starts at --lr and only goes down', repr(scales))
    allowed = [2.0 ** -k for k in range(0, len(backs) + 1)]
    seen = sorted(set(scales), reverse=True)
    check(len(seen) >= 2 and all(any(abs(s - a) < 1e-6 * a for a in allowed) for s in seen),
          'log.jsonl shows the rate halved by rollbacks: lr_g/lr = %s' % seen, repr(scales))
    # each rollback repeats the steps after its checkpoint: the log's step goes back to checkpoint + 1
    repeats = [b for a, b in zip(steps, steps[1:]) if b <= a]
    check(len(repeats) >= 1 and all(r - 1 in backs for r in repeats),
          'after a rollback the log continues from the checkpoint\'s step + 1', repr(steps))
    if code == 0:
        check(steps[-1] == 40 and abs(scales[-1] - 2.0 ** -len(backs)) < 1e-6,
              'the run reaches --steps at lr / 2^%d' % len(backs), repr(rows[-1]))
    png = os.path.join(tmp, 'after-rollback.png')
    expect(['sample', '--checkpoint', d, '--device', 'ref', '--count', '100', '--out', png], 0,
           out_re=r'wrote', what='the rolled-back run\'s latest checkpoint loads')
    if code == 0:
        # the halved rate is part of the run: a resume keeps it
        expect(['train', '--resume', d, '--steps', '42', '--device', 'ref', '--quiet'], 0)
        rows = log_rows(d)
        check(rows[-1]['step'] == 42 and abs(rows[-1]['lr_g'] / lr - scales[-1]) < 1e-6,
              'a resumed run keeps the halved learning rate', repr(rows[-1]))


# ---------------------------------------------------------------------------
# schedule: the learning rates each step used (log.jsonl) follow --lr-schedule,
# on top of the configured rates, and a resumed run keeps the schedule. Fails
# when a rate is off the formula at any step. Also the toy model's --widths.
# ---------------------------------------------------------------------------
def part_schedule(tmp):
    lr = 1e-3
    common = TOY + ['--lr', str(lr), '--log-every', '1', '--checkpoint-every', '0']
    def rates(d):
        rows = log_rows(d)
        check(all(r['lr_g'] == r['lr_d'] for r in rows), 'lr_g and lr_d follow one schedule', repr(rows))
        return [r['step'] for r in rows], [r['lr_g'] / lr for r in rows]
    def near(got, want):
        return len(got) == len(want) and all(abs(a - b) <= 1e-6 for a, b in zip(got, want))

    d = os.path.join(tmp, 'constant')
    expect(['train', *common, '--steps', '6', '--out', d], 0)
    steps, f = rates(d)
    check(steps == list(range(1, 7)) and near(f, [1.0] * 6), 'constant: every step at --lr', repr(f))

    # linear from 1 after --lr-decay-start updates down to --lr-decay-factor at --steps:
    # update t (1-based) uses 1 - (t - 1 - start) / (steps - start) * (1 - factor)
    for start, factor in ((0, 0.0), (4, 0.0), (3, 0.5)):
        d = os.path.join(tmp, 'linear-%d-%g' % (start, factor))
        expect(['train', *common, '--steps', '10', '--lr-schedule', 'linear', '--lr-decay-start', str(start),
                '--lr-decay-factor', str(factor), '--out', d], 0)
        steps, f = rates(d)
        want = [1.0 if t - 1 <= start else 1 - (t - 1 - start) / (10 - start) * (1 - factor) for t in range(1, 11)]
        check(near(f, want), 'linear from step %d to x%g at step 10: %s' % (start, factor, ['%.4f' % x for x in f]),
              'want %r' % want)
        check(f[-1] > factor, 'linear: the last update still learns (x%.4f)' % f[-1])

    # step: x factor from update start + 1 on; the defaults are steps/2 and 0.1
    d = os.path.join(tmp, 'step-default')
    expect(['train', *common, '--steps', '8', '--lr-schedule', 'step', '--out', d], 0)
    steps, f = rates(d)
    check(near(f, [1.0] * 4 + [0.1] * 4), 'step: x0.1 from step 5 of 8 by default', repr(f))
    cfg = json.load(open(os.path.join(d, 'config.json')))
    check(cfg.get('lr_schedule') == {'kind': 'step', 'start': 4, 'end': 0, 'factor': 0.1},
          'config.json records the schedule as it was fixed at the start', repr(cfg.get('lr_schedule')))

    # resume: the schedule comes from the checkpoint, including a decay still ahead
    d = os.path.join(tmp, 'step-resume')
    expect(['train', *common, '--steps', '4', '--lr-schedule', 'step', '--lr-decay-start', '3',
            '--lr-decay-factor', '0.25', '--out', d], 0)
    expect(['train', '--resume', d, '--steps', '8', '--device', 'ref', '--quiet'], 0)
    steps, f = rates(d)
    check(steps == list(range(1, 9)) and near(f, [1.0] * 3 + [0.25] * 5), 'a resumed run keeps its schedule', repr(f))
    expect(['train', '--resume', d, '--steps', '9', '--lr-schedule', 'linear', '--device', 'ref'], 2,
           err_re=r'--lr-schedule cannot change on --resume')

    # the toy model takes --widths as the MLP does (D reversed); its checkpoint has those shapes
    d = os.path.join(tmp, 'toy-widths')
    expect(['train', *common, '--widths', '16,8,4', '--steps', '2', '--out', d], 0)
    with open(os.path.join(d, 'checkpoints', 'step_00000002.safetensors'), 'rb') as f:
        header = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))
    shapes = {k: v['shape'] for k, v in header.items() if k.endswith('.weight')}
    check(shapes == {'g.fc1.weight': [16, 2], 'g.fc2.weight': [8, 16], 'g.fc3.weight': [4, 8], 'g.out.weight': [2, 4],
                     'd.fc1.weight': [4, 2], 'd.fc2.weight': [8, 4], 'd.fc3.weight': [16, 8],
                     'd.out.weight': [1, 16]}, 'toy --widths 16,8,4: G 2-16-8-4-2, D 2-4-8-16-1', repr(shapes))

    # a checkpoint written before schedules existed (no lr_schedule in its configuration) loads as constant
    src = os.path.join(tmp, 'step-resume', 'checkpoints', 'step_00000008.safetensors')
    with open(src, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    config = json.loads(header['__metadata__']['config'])
    del config['lr_schedule']
    header['__metadata__']['config'] = json.dumps(config)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    old_run = os.path.join(tmp, 'before-schedules')
    os.makedirs(os.path.join(old_run, 'checkpoints'))
    with open(os.path.join(old_run, 'checkpoints', 'step_00000008.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)
    os.symlink('checkpoints/step_00000008.safetensors', os.path.join(old_run, 'latest'))
    expect(['train', '--resume', old_run, '--steps', '10', '--log-every', '1', '--device', 'ref', '--quiet'], 0,
           what='a checkpoint without lr_schedule resumes')
    steps, f = rates(old_run)
    check(steps == [9, 10] and near(f, [1.0, 1.0]), 'and trains at the constant rate', repr(f))

    # the toy model's gradient-penalty weight is the WGAN-GP paper's toy value, 0.1, unless given
    # (and a penalty phase on another loss takes the same weight)
    for extra, want in ((['--loss', 'wgan-gp'], 0.1), (['--loss', 'wgan-gp', '--gp-lambda', '5'], 5.0),
                        (['--loss', 'ns', '--gp-phase-steps', '1'], 0.1)):
        d = os.path.join(tmp, 'toy-gp-%s' % '-'.join(a.strip('-') for a in extra))
        expect(['train', *TOY, '--steps', '1', *extra, '--out', d, '--quiet'], 0)
        lam = json.load(open(os.path.join(d, 'config.json'))).get('gp_lambda')
        check(lam is not None and abs(lam - want) < 1e-6, 'toy %s: gp_lambda %s' % (' '.join(extra), lam), 'want %g' % want)
    # and its wgan-gp optimizer: Adam 1e-3, beta1 0.5, decayed linearly to 0 (what covers grid25), unless given
    for extra, want in (([], ('linear', 1e-3, 0.5)), (['--lr-schedule', 'constant', '--lr', '1e-4', '--beta1', '0'],
                                                        ('constant', 1e-4, 0.0))):
        d = os.path.join(tmp, 'toy-gp-opt-%d' % len(extra))
        expect(['train', *TOY, '--steps', '4', '--loss', 'wgan-gp', *extra, '--out', d, '--quiet', '--log-every', '1'], 0)
        c = json.load(open(os.path.join(d, 'config.json')))
        got = (c.get('lr_schedule', {}).get('kind'), c.get('opt_g', {}).get('lr'), c.get('opt_d', {}).get('beta1'))
        check(got[0] == want[0] and got[1] is not None and abs(got[1] - want[1]) < 1e-9 and got[2] == want[2],
              'toy wgan-gp %s: schedule, lr, beta1 %r' % (' '.join(extra) or '(defaults)', got), 'want %r' % (want,))
        steps, f = rates(d)
        ramp = [want[1] / lr * (1 - s / 4 if want[0] == 'linear' else 1.0) for s in range(4)]
        check(near(f, ramp), 'toy wgan-gp %s trains at the rate factors %r' % (' '.join(extra) or '(defaults)', f),
              repr(ramp))
        # resumed past its end, a linear decay says that the added steps train at its final factor
        warn = r'decay linearly to x0 at step 4; its steps 5-6 train at that rate'
        expect(['train', '--resume', d, '--steps', '6', '--device', 'ref'], 0,
               err_re=warn if want[0] == 'linear' else None, err_not=None if want[0] == 'linear' else 'warning',
               what='toy wgan-gp %s: --resume past the schedule %s' % (' '.join(extra) or '(defaults)',
                                                                      'warns' if want[0] == 'linear' else 'is quiet'))

    # the edges: a step decay at step 0 to factor 0
    d = os.path.join(tmp, 'frozen')
    expect(['train', *common, '--steps', '6', '--lr-schedule', 'step', '--lr-decay-start', '0', '--lr-decay-factor',
            '0', '--out', d], 0, what='factor 0 from the first step (a frozen run) is allowed')
    steps, f = rates(d)
    check(near(f, [0.0] * 6), 'step from 0 with factor 0: every step logs rate 0', repr(f))


# ---------------------------------------------------------------------------
# check: fails when `clgan check` reports a difference on a correct device,
# passes a broken kernel, or does not point at the layers the break affects.
# ---------------------------------------------------------------------------
ROW = re.compile(r'^(ok|FAIL)\s+(D step|G step)\s+(\w+)\s+(\S+)\s+\d+', re.M)


def rows_of(out):
    return [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in ROW.finditer(out)]


def part_check(tmp):
    # ref against ref needs no OpenCL device: everything identical
    expect(['check', '--device', 'ref'], 0, out_re=r'ok: 0 tensor\(s\) differ', what='check ref against ref')
    code, out, _ = run('devices')
    first = re.search(r'^[* ] (\d+:\d+) ', out, re.M)
    if not first:
        print('no OpenCL device: skipping the device checks')
        return 'skip'
    dev = first.group(1)
    for args in ([], ['--loss', 'ns', '--conditional'], ['--model', 'mlp', '--loss', 'hinge'],
                 ['--model', 'toy', '--loss', 'wgan']):
        code, out, err = expect(['check', '--device', dev, *args], 0, out_re=r'ok: 0 tensor\(s\) differ',
                                what='check --device %s %s' % (dev, ' '.join(args)))
        rows = rows_of(out)
        kinds = set(r[2] for r in rows)
        check(len(rows) > 10 and {'activation', 'gradient', 'update', 'loss'} <= kinds and
              all(r[0] == 'ok' for r in rows), 'every row of %s is ok, and every kind is compared' % (args or 'dcgan'),
              out)

    def broken(name, file, old, new, args=()):
        kdir = os.path.join(tmp, name)
        shutil.copytree(os.path.join(SRC, 'cl'), kdir)
        path = os.path.join(kdir, file)
        with open(path) as f:
            text = f.read()
        if not check(text.count(old) == 1, '%s: %s holds "%s" once' % (name, file, old)):
            return None
        with open(path, 'w') as f:
            f.write(text.replace(old, new))
        code, out, err = expect(['check', '--device', dev, '--kernel-dir', kdir, *args], 1,
                                out_re=r'FAIL: \d+ tensor\(s\) differ by more than NMSE',
                                what='check with a broken kernel (%s) fails' % name)
        return rows_of(out)

    # tanh 1% too large: G's output (tanh is G's last op) is off, so the
    # layers reading it fail and those before it do not
    rows = broken('tanh', 'elementwise.cl', 'float ew_tanh(float v, float p0, float p1) { return tanh(v); }',
                  'float ew_tanh(float v, float p0, float p1) { return tanh(v) * 1.01f; }')
    if rows:
        failed = [r for r in rows if r[0] == 'FAIL']
        g_acts = [r for r in rows if r[2] == 'activation' and r[3].startswith('g.')]
        conv0 = [r for r in rows if r[1] == 'D step' and r[2] == 'activation' and r[3] == 'd.conv0']
        check(g_acts and all(r[0] == 'ok' for r in g_acts), 'tanh: the generator layers before tanh are ok',
              repr(g_acts))
        # the D step calls D once on the real and generated images side by side (src/train/gan.c d_pairs),
        # then on the interpolates of the gradient penalty: both read generated images
        check(len(conv0) == 2 and all(r[0] == 'FAIL' for r in conv0),
              'tanh: d.conv0 of the D step (real and generated images together; the interpolates) fails',
              repr(conv0))
        check(('FAIL', 'G step', 'gradient', 'g.convt2.weight') in rows,
              'tanh: the gradient of the last generator layer fails', repr(failed))
        print('     tanh FAIL rows: ' + ', '.join('%s %s %s' % r[1:] for r in failed))
    # Adam's update twice too large: the D step's forward pass and gradients
    # are right and only the updates fail (compared as after - before, so a
    # wrong update shows even where it is small next to the weights)
    rows = broken('adam', 'optim.cl', 'p[po + i] = pi - lr * (mi / c1) / (sqrt(vi / c2) + eps);',
                  'p[po + i] = pi - 2.0f * lr * (mi / c1) / (sqrt(vi / c2) + eps);')
    if rows:
        d_rows = [r for r in rows if r[1] == 'D step']
        before = [r for r in d_rows if r[2] in ('activation', 'gradient', 'loss')]
        params = [r for r in d_rows if r[2] == 'update']
        check(before and all(r[0] == 'ok' for r in before), 'adam: D-step activations, loss and gradients are ok',
              repr([r for r in before if r[0] != 'ok']))
        check(('FAIL', 'D step', 'update', 'd.conv0.weight') in params and
              ('FAIL', 'G step', 'update', 'g.convt0.weight') in rows,
              'adam: the updated parameters fail', repr(params))
        print('     adam FAIL rows in the D step: ' + ', '.join(r[3] for r in params if r[0] == 'FAIL'))


# ---------------------------------------------------------------------------
# resume: N steps + --resume N more == 2N steps in one go, bit for bit, on ref.
# Fails when a checkpoint misses any state the next step depends on (a
# parameter, a BatchNorm running statistic, an optimizer slot, the step
# counters that pick the noise and Adam's bias correction, the data order),
# when --resume --steps does not continue to the new target, or when the
# configuration read back from the checkpoint is not the one written (the
# config.json that --resume writes again must be the one-go run's). A control
# proves the comparison can fail: a copy of the half-way run whose checkpoint
# has one tensor changed must end differently.
# ---------------------------------------------------------------------------
RESUME_COMMON = ['--device', 'ref', '--quiet', '--log-every', '1', '--sample-every', '0', '--checkpoint-every', '0']
LOG_KEYS = ['loss_d', 'loss_g', 'd_real', 'd_fake', 'penalty', 'r1', 'grad_norm_d', 'grad_norm_g', 'lr_g', 'lr_d', 'epoch']
POSITION_META = ['g_steps', 'd_steps', 'data_epoch', 'data_pos', 'rollbacks', 'lr_scale_bits', 'format',
                 'format_version']


def ckpt(run_dir, step):
    return os.path.join(run_dir, 'checkpoints', 'step_%08d.safetensors' % step)


def first_difference(a, b):
    """Where two tensors' bytes first differ, as 'element I: X vs Y' (float32 values)."""
    n = min(len(a), len(b)) // 4
    for i in range(n):
        if a[4 * i:4 * i + 4] != b[4 * i:4 * i + 4]:
            return 'element %d: %.9g vs %.9g' % (i, struct.unpack('<f', a[4 * i:4 * i + 4])[0],
                                                  struct.unpack('<f', b[4 * i:4 * i + 4])[0])
    return 'sizes %d vs %d bytes' % (len(a), len(b))


def compare_checkpoints(what, pa, pb, expect_same):
    """Every tensor (name, dtype, shape, bytes) and the run position in __metadata__ must match;
    with expect_same false the tensors that differ are only counted. Returns how many differ."""
    ta, ma = st_read(pa)
    tb, mb = st_read(pb)
    check(len(ta) == len(tb), '%s: both checkpoints hold %d tensors' % (what, len(ta)), '%d vs %d' % (len(ta), len(tb)))
    missing = [n for n in ta if n not in tb]
    check(not missing, '%s: every tensor is in the resumed run' % what, 'missing: %s' % missing)
    differ = ['%s (%s)' % (n, first_difference(t['data'], tb[n]['data'])) for n, t in ta.items()
              if n in tb and (t['dtype'], t['shape'], t['data']) != (tb[n]['dtype'], tb[n]['shape'], tb[n]['data'])]
    nbytes = sum(len(t['data']) for t in ta.values())
    if expect_same:
        check(not differ, '%s: %d tensors (%d bytes) bit for bit the same; g_steps %s, d_steps %s, data epoch %s pos %s'
              % (what, len(ta), nbytes, ma.get('g_steps'), ma.get('d_steps'), ma.get('data_epoch'), ma.get('data_pos')),
              'differ: ' + '; '.join(differ))
    else:
        print('     %s: %d tensors (%d bytes), %d differ%s' % (what, len(ta), nbytes, len(differ),
                                                              ', first ' + differ[0] if differ else ''))
    bad = ['%s: %s vs %s' % (k, ma.get(k, '(missing)'), mb.get(k, '(missing)')) for k in POSITION_META
           if k not in ma or k not in mb or ma[k] != mb[k]]
    check(not bad, '%s: the run position in __metadata__ matches' % what, '; '.join(bad))
    return len(differ)


def number_kind(v):
    return 'number' if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__


def compare_logs(what, la, lb):
    """Log lines with the same step must agree in every loss and score; the last lines must be the
    same text up to the timing fields. Returns how many lines of la were matched by step."""
    with open(la) as f:
        text_a = f.read()
    with open(lb) as f:
        text_b = f.read()
    ea, eb = text_a.rstrip('\n').split('\n')[-1], text_b.rstrip('\n').split('\n')[-1]
    ia, ib = ea.find('"images_per_s"'), eb.find('"images_per_s"')
    check(ia > 0 and ia == ib and ea[:ia] == eb[:ib], '%s: the last log lines agree up to the timing' % what,
          '  %s\n  %s' % (ea, eb))
    rows_b = [json.loads(l) for l in text_b.split('\n') if l.strip()]
    compared, bad = 0, []
    for ra in (json.loads(l) for l in text_a.split('\n') if l.strip()):
        for rb in (r for r in rows_b if r['step'] == ra['step']):
            for k in LOG_KEYS:
                va, vb = ra.get(k), rb.get(k)
                if k not in ra or k not in rb or number_kind(va) != number_kind(vb) or va != vb:
                    bad.append('step %d: %s %r (one run) != %r (resumed)' % (ra['step'], k, va, vb))
            compared += 1
    check(not bad, '%s: every loss and score agrees step by step' % what, '\n'.join(bad))
    return compared


def bump_tensor(path, name):
    """Rewrites the checkpoint with 1 added to every element of the F32 tensor name."""
    tensors, meta = st_read(path)
    t = tensors[name]
    n = len(t['data']) // 4
    t['data'] = struct.pack('<%df' % n, *(v + 1.0 for v in struct.unpack('<%df' % n, t['data'])))
    st_write(path, tensors, meta)


def resume_case(tmp, name, n, args, tamper):
    one, two = os.path.join(tmp, name + '-one'), os.path.join(tmp, name + '-two')
    ok = expect(['train', *args, *RESUME_COMMON, '--steps', str(2 * n), '--out', one], 0,
                what='%s: the %d-step run' % (name, 2 * n))[0] == 0
    ok &= expect(['train', *args, *RESUME_COMMON, '--steps', str(n), '--out', two], 0,
                 what='%s: the %d-step run' % (name, n))[0] == 0
    # --steps on --resume sets the new target; the configuration comes from the checkpoint
    ok &= expect(['train', '--resume', two, '--steps', str(2 * n), '--device', 'ref', '--quiet'], 0,
                 what='%s: --resume to step %d' % (name, 2 * n))[0] == 0
    if not ok:
        return
    ca, cb = ckpt(one, 2 * n), ckpt(two, 2 * n)
    compare_checkpoints(name, ca, cb, True)
    # the half-way checkpoint is still there, and latest moved on
    check(os.path.exists(ckpt(two, n)), '%s: the half-way checkpoint %s is kept' % (name, ckpt(two, n)))
    latest = os.path.join(two, os.readlink(os.path.join(two, 'latest')))
    check(latest == cb, '%s: latest is %s' % (name, cb), 'latest is %s' % latest)
    compared = compare_logs(name, os.path.join(one, 'log.jsonl'), os.path.join(two, 'log.jsonl'))
    check(compared == 2 * n, '%s: %d log lines matched by step' % (name, 2 * n), 'matched %d' % compared)
    with open(os.path.join(one, 'config.json')) as f:
        cfg_one = f.read().replace(json.dumps(one), '"OUT"')
    with open(os.path.join(two, 'config.json')) as f:
        cfg_two = f.read().replace(json.dumps(two), '"OUT"')
    check(cfg_one == cfg_two, '%s: the configuration read back on --resume is written again as the one-go run\'s' % name,
          '  one go   %s\n  resumed  %s' % (cfg_one, cfg_two))
    if not tamper:
        return
    # the control: run to n again, then change `tamper` in its checkpoint before resuming
    three = os.path.join(tmp, name + '-tampered')
    if expect(['train', *args, *RESUME_COMMON, '--steps', str(n), '--out', three], 0,
              what='%s: the %d-step run to tamper with' % (name, n))[0] != 0:
        return
    half = ckpt(three, n)
    if not check(tamper in st_read(half)[0], '%s: the checkpoint holds %s to change' % (name, tamper)):
        return
    bump_tensor(half, tamper)
    if expect(['train', '--resume', three, '--steps', str(2 * n), '--device', 'ref', '--quiet'], 0,
              what='%s: --resume of the changed run' % name)[0] != 0:
        return
    differ = compare_checkpoints('%s with %s changed' % (name, tamper), ca, ckpt(three, 2 * n), False)
    check(differ > 0, '%s: changing %s at step %d changes the run at step %d (the comparison can fail)'
          % (name, tamper, n, 2 * n))


def part_resume(tmp):
    # 40 images in batches of 8: 5 batches an epoch, so the 6-step runs cross
    # into epoch 1 after the resume point (epoch 0, position 24)
    images = write_tiny_idx(tmp, 40)
    # DCGAN with BatchNorm in G and D (running statistics), Adam
    resume_case(tmp, 'dcgan-batchnorm-adam', 3,
                ['--model', 'dcgan', '--loss', 'ns', '--dataset', 'idx', '--data', images, '--width', '8', '--z-dim',
                 '16', '--batch-size', '8', '--seed', '5'], 'd.norm1.running_mean')
    # conditional MLP, RMSProp, hinge
    resume_case(tmp, 'mlp-conditional-rmsprop', 3,
                ['--model', 'mlp', '--loss', 'hinge', '--conditional', '--optimizer', 'rmsprop', '--lr', '1e-3',
                 '--dataset', 'idx', '--data', images, '--widths', '32,64', '--z-dim', '16', '--batch-size', '8',
                 '--seed', '6'], 'optim.g.rmsprop_square_avg')
    # WGAN-GP on ring8: n_critic 5 (d_steps != g_steps) and the penalty's noise stream
    resume_case(tmp, 'toy-ring8-wgan-gp', 4,
                ['--model', 'toy', '--loss', 'wgan-gp', '--batch-size', '32', '--width', '32', '--seed', '8',
                 '--lr-schedule', 'constant'], None)  # (a linear decay ends where the first run's --steps did)
    # SGD with momentum and gradient clipping
    resume_case(tmp, 'toy-ring8-sgd-clip', 5,
                ['--model', 'toy', '--loss', 'ns', '--optimizer', 'sgd', '--lr', '0.01', '--clip-grad', '0.5',
                 '--batch-size', '32', '--width', '32', '--seed', '9'], 'optim.d.sgd_momentum')
    # the generator EMA (and its running statistics) comes back from the checkpoint
    resume_case(tmp, 'dcgan-g-ema', 3,
                ['--model', 'dcgan', '--loss', 'ns', '--dataset', 'idx', '--data', images, '--width', '8', '--z-dim',
                 '16', '--batch-size', '8', '--seed', '7', '--g-ema', '0.9'], 'g_ema.convt0.weight')
    # spectral normalisation: the power iteration's u and v come back from the checkpoint
    resume_case(tmp, 'dcgan-hinge-spectral', 3,
                ['--model', 'dcgan', '--loss', 'hinge', '--d-norm', 'spectral', '--dataset', 'idx', '--data', images,
                 '--width', '8', '--z-dim', '16', '--batch-size', '8', '--seed', '13'], 'd.conv1.weight_u')
    # DiffAugment: its draws follow the step counters across the resume
    resume_case(tmp, 'dcgan-diffaugment', 3,
                ['--model', 'dcgan', '--loss', 'ns', '--augment', 'color,translation,cutout', '--dataset', 'idx',
                 '--data', images, '--width', '8', '--z-dim', '16', '--batch-size', '8', '--seed', '14'], None)
    # lazy R1 with n_critic 2: the resumed run picks up the R1 schedule at D step 8 (8 % 3 = 2)
    resume_case(tmp, 'toy-ring8-r1-lazy', 4,
                ['--model', 'toy', '--loss', 'ns', '--n-critic', '2', '--r1', '1', '--r1-every', '3',
                 '--batch-size', '32', '--width', '32', '--seed', '12'], None)
    # a step decay of the learning rates in the first half: the schedule comes back from the
    # checkpoint; three hidden layers (--widths)
    resume_case(tmp, 'toy-ring8-lr-step', 4,
                ['--model', 'toy', '--loss', 'hinge', '--lr-schedule', 'step', '--lr-decay-start', '3',
                 '--lr-decay-factor', '0.25', '--batch-size', '32', '--widths', '32,16,24', '--seed', '10'], None)


# ---------------------------------------------------------------------------
# checkpoints: damaged, inconsistent and foreign files are refused by
# `clgan sample --checkpoint` with exit status 1 and one "clgan: error:" line
# naming the file and the tensor or field at fault, and no PNG written. Fails
# when one is accepted, crashes (a signal or a sanitizer abort), or the
# message does not say what and where. (test_train.c checkpoints: the same
# files through the library, clgan_checkpoint_config / _restore, and the
# status each gives.)
# ---------------------------------------------------------------------------
def floats(t):
    return struct.unpack('<%df' % (len(t['data']) // 4), t['data'])


# ---------------------------------------------------------------------------
# ema: a DCGAN trained with --g-ema 0.9 for 4 steps, a checkpoint after each.
# Fails when the average is not b ema + (1 - b) G after each update with the
# documented warm-up b = min(0.9, (1 + t)/(10 + t)), when the EMA's running
# statistics are not G's, when clgan sample does not generate with the EMA
# weights (it must give what G's own weights replaced by them give under
# --no-ema, bit for bit) or --no-ema does not use G's own, or when a decay
# outside (0, 1) is taken.
# ---------------------------------------------------------------------------
def part_ema(tmp):
    images = write_tiny_idx(tmp, 40)
    run_dir, decay, steps = os.path.join(tmp, 'ema'), 0.9, 4
    must(['train', '--model', 'dcgan', '--loss', 'ns', '--dataset', 'idx', '--data', images, '--width', '8',
          '--z-dim', '16', '--batch-size', '8', '--seed', '3', '--g-ema', str(decay), '--steps', str(steps),
          '--device', 'ref', '--quiet', '--checkpoint-every', '1', '--keep-checkpoints', '10', '--out', run_dir],
         'train --g-ema')
    with open(os.path.join(run_dir, 'config.json')) as f:
        cfg = json.load(f)
    check(abs(cfg.get('ema', {}).get('decay', 0) - decay) < 1e-7, 'config.json holds ema.decay %g' % decay, str(cfg.get('ema')))
    ts = [st_read(ckpt(run_dir, k))[0] for k in range(1, steps + 1)]
    g_names = [n for n in ts[0] if n.startswith('g.')]
    check(g_names and all('g_ema.' + n[2:] in ts[0] for n in g_names),
          'the checkpoint holds g_ema.<name> for each of G\'s %d tensors' % len(g_names))
    worst, moved = 0.0, 0.0
    for k in range(1, steps):  # the update of step k + 1 from the averages of step k
        t = k + 1
        b = min(decay, (1.0 + t) / (10.0 + t))
        for n in g_names:
            if 'running' in n:
                continue
            prev, g, now = floats(ts[k - 1]['g_ema.' + n[2:]]), floats(ts[k][n]), floats(ts[k]['g_ema.' + n[2:]])
            for p_, g_, e_ in zip(prev, g, now):
                worst = max(worst, abs(e_ - (b * p_ + (1 - b) * g_)))
                moved = max(moved, abs(e_ - g_))
    check(worst < 1e-6, 'each step the EMA is b ema + (1 - b) G with b = min(0.9, (1+t)/(10+t)): worst %.2e' % worst)
    # a copy of G instead of an average gives exactly 0
    check(moved > 1e-6, 'the EMA differs from G (by up to %.3g): it averages' % moved)
    stats = [n for n in g_names if 'running' in n]
    check(stats and all(ts[-1][n]['data'] == ts[-1]['g_ema.' + n[2:]]['data'] for n in stats),
          'the EMA\'s %d running statistics are G\'s' % len(stats))
    # sample: with the EMA by default, G's own under --no-ema
    last = ckpt(run_dir, steps)
    common = ['--count', '16', '--device', 'ref', '--quiet', '--seed', '4']
    ema_png, raw_png, swap_png = (os.path.join(tmp, x + '.png') for x in ('ema', 'raw', 'swapped'))
    must(['sample', '--checkpoint', last, *common, '--out', ema_png], 'sample')
    must(['sample', '--checkpoint', last, *common, '--no-ema', '--out', raw_png], 'sample --no-ema')
    tensors, meta = st_read(last)
    for n in g_names:
        tensors[n] = dict(tensors['g_ema.' + n[2:]])
    swapped = os.path.join(tmp, 'swapped.safetensors')
    st_write(swapped, tensors, meta)
    must(['sample', '--checkpoint', swapped, *common, '--no-ema', '--out', swap_png], 'sample --no-ema of G := EMA')
    ema_px, raw_px, swap_px = (png_read(x)[3] for x in (ema_png, raw_png, swap_png))
    check(ema_px == swap_px, 'clgan sample generates with the EMA weights (as G\'s own replaced by them, bit for bit)')
    check(ema_px != raw_px, 'clgan sample --no-ema generates with G\'s own weights, which differ')
    # refusals
    none = os.path.join(tmp, 'none')
    for bad in ('1', '1.5', '-0.1'):
        expect(['train', '--model', 'toy', '--g-ema', bad, '--steps', '1', '--device', 'ref', '--out', none], 2,
               err_re=r'--g-ema %s: expected a finite number in \[0, 1\]|g_ema = %s: expected 0 \(off\) or a decay in '
                      r'\(0, 1\)' % (re.escape(bad), re.escape(bad)),
               what='--g-ema %s refused: a decay in (0, 1)' % bad)
    check(not os.path.exists(none), 'no run folder behind the refusals')
    return 0


# ---------------------------------------------------------------------------
# r1: the toy GAN with --r1 2 --r1-every 2 for 6 steps. Fails when config.json
# does not hold r1.gamma and r1.every, when log.jsonl's r1 is not positive on
# the D steps the lazy schedule picks (d_steps % 2 == 0: steps 1, 3, 5) and 0
# on the others, or when a gamma or interval outside its range is taken (exit
# 2 naming the option, no run folder). The value itself is PyTorch's: the
# golden fixtures dcgan-ns-adam-r1 and mlp-hinge-sgd-r1-lazy.
# ---------------------------------------------------------------------------
def part_r1(tmp):
    run_dir = os.path.join(tmp, 'r1')
    must(['train', '--model', 'toy', '--loss', 'ns', '--batch-size', '16', '--width', '16', '--r1', '2',
          '--r1-every', '2', '--steps', '6', '--log-every', '1', '--device', 'ref', '--quiet', '--out', run_dir],
         'train --r1 2 --r1-every 2')
    with open(os.path.join(run_dir, 'config.json')) as f:
        cfg = json.load(f)
    check(cfg.get('r1') == {'gamma': 2, 'every': 2}, 'config.json holds r1 {gamma 2, every 2}', str(cfg.get('r1')))
    with open(os.path.join(run_dir, 'log.jsonl')) as f:
        rows = [json.loads(line) for line in f if '"loss_d"' in line]
    r1 = [(r['step'], r.get('r1')) for r in rows]
    want = [(k, k % 2 == 1) for k in range(1, 7)]
    got = [(k, v is not None and v > 0) for k, v in r1]
    check(got == want and all(v == 0 for k, v in r1 if k % 2 == 0),
          'log.jsonl: r1 > 0 on steps 1, 3, 5 (d_steps 0, 2, 4) and 0 on the others', str(r1))
    none = os.path.join(tmp, 'none')
    for opt, bad, msg in (('--r1', '-1', r'--r1 -1: expected'), ('--r1', 'nan', r'--r1 nan: expected'),
                          ('--r1-every', '-2', r'--r1-every -2: expected')):
        expect(['train', '--model', 'toy', opt, bad, '--steps', '1', '--device', 'ref', '--out', none], 2,
               err_re=msg, what='%s %s refused' % (opt, bad))
    check(not os.path.exists(none), 'no run folder behind the refusals')
    return 0


# ---------------------------------------------------------------------------
# spectral: a DCGAN with --d-norm spectral (hinge) for 3 steps, a checkpoint
# after each. Fails when D's conv weights are not kept as <layer>.weight_orig
# with the buffers weight_u and weight_v, when u does not change from step to
# step (the power iteration runs) or does not stay a unit vector, when the
# critic has a normalisation layer left, or when spectral normalisation is
# taken with WGAN's weight clipping (exit 2 naming both, no run folder). The
# values themselves are PyTorch's torch.nn.utils.spectral_norm's: the golden
# fixtures dcgan-hinge-adam-sn-r1, toy-wgan-gp-sgd-sn, mlp-ns-sgd-sn-cond.
# ---------------------------------------------------------------------------
def part_spectral(tmp):
    images = write_tiny_idx(tmp, 40)
    run_dir = os.path.join(tmp, 'sn')
    must(['train', '--model', 'dcgan', '--loss', 'hinge', '--d-norm', 'spectral', '--dataset', 'idx', '--data', images,
          '--width', '8', '--z-dim', '16', '--batch-size', '8', '--seed', '3', '--steps', '3', '--device', 'ref',
          '--quiet', '--checkpoint-every', '1', '--keep-checkpoints', '10', '--out', run_dir], 'train --d-norm spectral')
    ts = [st_read(ckpt(run_dir, k))[0] for k in range(1, 4)]
    convs = sorted(n[:-len('.weight_orig')] for n in ts[0] if n.startswith('d.') and n.endswith('.weight_orig'))
    check(convs == ['d.conv0', 'd.conv1', 'd.conv2'] and
          all(c + '.weight_u' in ts[0] and c + '.weight_v' in ts[0] and c + '.weight' not in ts[0] for c in convs),
          'D\'s convolutions are kept as weight_orig with weight_u and weight_v', str(sorted(ts[0])))
    check(not any(n.startswith('d.norm') for n in ts[0]), 'no normalisation layer in the critic')
    moved, unit = 0.0, 0.0
    for c in convs:
        for k in range(2):
            a, b = floats(ts[k][c + '.weight_u']), floats(ts[k + 1][c + '.weight_u'])
            moved = max(moved, max(abs(x - y) for x, y in zip(a, b)))
            unit = max(unit, abs(math.sqrt(sum(x * x for x in b)) - 1))
    check(moved > 1e-7, 'the power iteration moves u each step (by up to %.3g)' % moved)
    check(unit < 1e-5, 'u stays a unit vector (|norm - 1| up to %.2g)' % unit)
    none = os.path.join(tmp, 'none')
    expect(['train', '--model', 'dcgan', '--loss', 'wgan', '--d-norm', 'spectral', '--steps', '1', '--device', 'ref',
            '--out', none], 2, err_re=r'd_norm spectral with loss wgan: the weight clipping',
           what='spectral normalisation with WGAN\'s weight clipping is refused')
    expect(['train', '--model', 'dcgan', '--d-norm', 'spectra', '--steps', '1', '--device', 'ref', '--out', none], 2,
           err_re=r'--d-norm spectra: expected batch, layer, none or spectral', what='--d-norm spectra is refused')
    check(not os.path.exists(none), 'no run folder behind the refusals')
    return 0


# ---------------------------------------------------------------------------
# augment: --augment color,translation,cutout is kept in config.json, two runs
# with it and the same seed are the same bit for bit (the augmentation draws
# from Philox), a run without it differs, and an unknown name or the toy model
# is refused (exit 2, no run folder). What the augmentation computes is the
# reference code's: the golden fixtures dcgan-ns-adam-diffaug-r1 and
# mlp-hinge-sgd-diffaug-cond.
# ---------------------------------------------------------------------------
def part_augment(tmp):
    images = write_tiny_idx(tmp, 40)
    common = ['--model', 'dcgan', '--dataset', 'idx', '--data', images, '--width', '8', '--z-dim', '16',
              '--batch-size', '8', '--seed', '3', '--steps', '2', '--device', 'ref', '--quiet']
    runs = {}
    for name, extra in (('a', ['--augment', 'color,translation,cutout']), ('b', ['--augment', 'color,translation,cutout']),
                        ('plain', [])):
        runs[name] = os.path.join(tmp, name)
        must(['train', *common, *extra, '--out', runs[name]], 'train %s' % name)
    with open(os.path.join(runs['a'], 'config.json')) as f:
        cfg = json.load(f)
    check(cfg.get('augment') == {'policy': 'color,translation,cutout'}, 'config.json holds augment.policy',
          str(cfg.get('augment')))
    a, b, p = (st_read(ckpt(runs[k], 2))[0] for k in ('a', 'b', 'plain'))
    check(all(a[n]['data'] == b[n]['data'] for n in a), 'two augmented runs with one seed are the same bit for bit')
    check(any(a[n]['data'] != p[n]['data'] for n in a if n.startswith('d.')), 'the augmentation changes training')
    none = os.path.join(tmp, 'none')
    expect(['train', '--model', 'dcgan', '--augment', 'color,flip', '--steps', '1', '--device', 'ref', '--out', none], 2,
           err_re=r"augmentation 'flip' in 'color,flip': expected color, translation or cutout",
           what='an unknown augmentation is refused, named')
    expect(['train', '--model', 'toy', '--augment', 'cutout', '--steps', '1', '--device', 'ref', '--out', none], 2,
           err_re=r'the toy model makes 2-D points', what='augmenting the toy model is refused')
    check(not os.path.exists(none), 'no run folder behind the refusals')
    return 0


# ---------------------------------------------------------------------------
# pack: --preset pacgan --pack 2 keeps the VEEGAN/PacGAN layers and the packing
# in config.json (group arch), D's first layer takes 2 x 2 inputs and its
# maxout layers 5 pieces per unit, the batch is 100 packs; a run resumes with
# them; a batch that does not divide, a conditional model, an unknown preset and
# the preset on the DCGAN are refused (exit 2, no run folder). What packing and
# maxout compute is PyTorch's: the golden fixtures toy-hinge-adam-pacgan,
# mlp-wgan-gp-sgd-pack and dcgan-ns-adam-pack-r1.
# ---------------------------------------------------------------------------
def part_pack(tmp):
    run_dir = os.path.join(tmp, 'pac')
    must(['train', '--model', 'toy', '--dataset', 'grid25', '--preset', 'pacgan', '--pack', '2', '--steps', '2',
          '--device', 'ref', '--quiet', '--checkpoint-every', '1', '--out', run_dir], 'train --preset pacgan --pack 2')
    with open(os.path.join(run_dir, 'config.json')) as f:
        cfg = json.load(f)
    check(cfg.get('arch') == {'pack': 2, 'g_batchnorm': 1, 'd_widths': [200, 200, 200], 'maxout': 5,
                              'normal_init': 1}, 'config.json holds the arch group', str(cfg.get('arch')))
    check(cfg['model']['widths'] == [400, 400, 400, 400] and cfg['batch_size'] == 200 and
          cfg['opt_d']['lr'] == 0.0001 and cfg['opt_d']['beta1'] == 0.8,
          'the preset: G 4 x 400, 100 packs of 2, Adam 1e-4 / 0.8', json.dumps(cfg)[:300])
    t = st_read(ckpt(run_dir, 2))[0]
    check(t['d.fc1.weight']['shape'] == [1000, 4] and t['d.fc2.weight']['shape'] == [1000, 200] and
          t['d.out.weight']['shape'] == [1, 200], 'D: 2 packed 2-D points in, 200 maxout units of 5 pieces',
          str({k: v['shape'] for k, v in t.items() if k.startswith('d.')}))
    check('g.bn1.running_mean' in t and 'g.fc1.bias' not in t, 'G: BatchNorm after bias-free linear layers')
    must(['train', '--resume', run_dir, '--steps', '3', '--device', 'ref', '--quiet'], 'resume the packed run')
    none = os.path.join(tmp, 'none')
    expect(['train', '--model', 'toy', '--pack', '3', '--batch-size', '64', '--steps', '1', '--device', 'ref',
            '--out', none], 2, err_re=r'batch size 64 with pack 3: expected a multiple of 3',
           what='a batch that packs do not divide is refused')
    expect(['train', '--model', 'mlp', '--pack', '2', '--conditional', '--steps', '1', '--device', 'ref', '--out', none],
           2, err_re=r'pack 2 with a conditional model', what='packing a conditional model is refused')
    expect(['train', '--model', 'toy', '--preset', 'veegan', '--steps', '1', '--device', 'ref', '--out', none], 2,
           err_re=r"preset 'veegan': expected pacgan", what='an unknown preset is refused, named')
    expect(['train', '--model', 'dcgan', '--preset', 'pacgan', '--steps', '1', '--device', 'ref', '--out', none], 2,
           err_re=r'preset pacgan is the toy model', what='the 2-D preset on the DCGAN is refused')
    expect(['train', '--model', 'dcgan', '--maxout', '3', '--steps', '1', '--device', 'ref', '--out', none], 2,
           err_re=r'the DCGAN has none', what='maxout on the DCGAN is refused')
    check(not os.path.exists(none), 'no run folder behind the refusals')
    return 0


def part_checkpoints(tmp):
    # a real checkpoint of a small toy GAN after one step (batch 16: data position 16)
    run_dir = os.path.join(tmp, 'good-run')
    must(['train', '--model', 'toy', '--loss', 'ns', '--batch-size', '16', '--width', '16', '--steps', '1',
          '--sample-every', '0', '--checkpoint-every', '0', '--device', 'ref', '--quiet', '--out', run_dir],
         'train the toy GAN one step for a checkpoint')
    good = os.path.join(tmp, 'good.safetensors')
    shutil.copy(ckpt(run_dir, 1), good)
    tensors, meta = st_read(good)
    check(meta.get('g_steps') == '1' and meta.get('data_pos') == '16',
          'the good checkpoint is at step 1, data position 16', repr(meta))
    # the good one loads, as it is and as st_write writes it again (so the bad
    # ones fail for their damage, not for something else)
    expect(['sample', '--checkpoint', good, '--device', 'ref', '--count', '16', '--out', os.path.join(tmp, 'good.png')],
           0, out_re=has('wrote'), what='clgan sample loads the good checkpoint')
    again = os.path.join(tmp, 'rewritten.safetensors')
    st_write(again, tensors, meta)
    expect(['sample', '--checkpoint', again, '--device', 'ref', '--count', '16',
            '--out', os.path.join(tmp, 'rewritten.png')], 0, out_re=has('wrote'),
           what='clgan sample loads the good checkpoint rewritten unchanged by st_write')

    png = os.path.join(tmp, 'never.png')

    def refused(path, field):
        if os.path.exists(png):
            os.unlink(png)
        expect(['sample', '--checkpoint', path, '--device', 'ref', '--count', '4', '--out', png], 1,
               err_re=has('clgan: error:', path, field),
               what='clgan sample refuses %s naming the file and "%s"' % (os.path.basename(path), field))
        check(not os.path.exists(png), '%s: clgan sample wrote no PNG' % os.path.basename(path))

    def spit(name, data):
        p = os.path.join(tmp, name)
        with open(p, 'wb') as f:
            f.write(data)
        return p

    with open(good, 'rb') as f:
        data = f.read()
    hlen = struct.unpack('<Q', data[:8])[0]
    # truncated: the data of the last tensors is cut off
    refused(spit('truncated.safetensors', data[:8 + hlen + (len(data) - 8 - hlen) // 2]), 'tensor')
    # cut inside the header
    refused(spit('truncated-header.safetensors', data[:8 + hlen // 2]), 'header length')
    # the header length field larger than the file
    refused(spit('header-too-long.safetensors', struct.pack('<Q', len(data) + 1000) + data[8:]), 'header length')
    # garbage in place of the header JSON (same length, so the length field is right)
    refused(spit('garbage-header.safetensors', data[:8] + (b'#garbage{' * (hlen // 9 + 1))[:hlen] + data[8 + hlen:]),
            'byte offset')
    # all zeros
    refused(spit('zeros.safetensors', bytes(64)), 'header length')

    check(all(n in tensors for n in ('g.fc1.weight', 'd.out.bias', 'optim.d.adam_v')),
          'the toy checkpoint holds the tensors this test changes', repr(list(tensors)))

    def variant(name, reshape=None, drop=None, drop_meta=None, meta_key=None, meta_value=None):
        t = {k: dict(v) for k, v in tensors.items() if k != drop}
        m = {k: v for k, v in meta.items() if k != drop_meta}
        if reshape:
            # one more row (of zeros)
            row = len(t[reshape]['data']) // t[reshape]['shape'][0]
            t[reshape]['shape'] = [t[reshape]['shape'][0] + 1] + t[reshape]['shape'][1:]
            t[reshape]['data'] += bytes(row)
        if meta_key:
            m[meta_key] = meta_value
        p = os.path.join(tmp, name)
        st_write(p, t, m)
        return p

    bad_field = ('{"model":{"kind":"toy","z_dim":2,"channels":1,"image_size":28,"width":16,"widths":[],"classes":0,'
                 '"d_norm":"none"},"loss":"ns","batch_size":"sixteen"}')
    variants = [
        # tensors that do not fit the configuration
        ('wrong-shape.safetensors', 'g.fc1.weight', {'reshape': 'g.fc1.weight'}),
        ('wrong-shape-optim.safetensors', 'optim.g.adam_m', {'reshape': 'optim.g.adam_m'}),
        ('missing-tensor.safetensors', 'd.out.bias', {'drop': 'd.out.bias'}),
        ('missing-optim.safetensors', 'optim.d.adam_v', {'drop': 'optim.d.adam_v'}),
        # metadata
        ('no-config.safetensors', 'config', {'drop_meta': 'config'}),
        ('garbled-config.safetensors', 'config', {'meta_key': 'config', 'meta_value': '{"model": {"kind": '}),
        ('config-not-object.safetensors', 'config', {'meta_key': 'config', 'meta_value': '[1, 2]'}),
        ('config-bad-field.safetensors', 'batch_size', {'meta_key': 'config', 'meta_value': bad_field}),
        ('config-unknown-model.safetensors', 'model.kind',
         {'meta_key': 'config', 'meta_value': '{"model":{"kind":"gpt"}}'}),
        ('no-format.safetensors', 'format', {'drop_meta': 'format'}),
        ('other-format.safetensors', 'format', {'meta_key': 'format', 'meta_value': 'pytorch'}),
        ('future-version.safetensors', 'format', {'meta_key': 'format_version', 'meta_value': '99'}),
        ('no-step-counter.safetensors', 'g_steps', {'drop_meta': 'g_steps'}),
        ('negative-step-counter.safetensors', 'd_steps', {'meta_key': 'd_steps', 'meta_value': '-3'}),
        ('huge-data-position.safetensors', 'data_pos', {'meta_key': 'data_pos', 'meta_value': '184467440737095516160'}),
        ('bad-lr-scale.safetensors', 'lr_scale_bits', {'meta_key': 'lr_scale_bits', 'meta_value': 'half'}),
    ]
    for name, field, edit in variants:
        refused(variant(name, **edit), field)
    # the real configuration with one field broken
    cfg = meta['config']
    edits = [
        ('config-unknown-loss.safetensors', 'loss', '"loss":"ns"', '"loss":"l2"'),
        ('config-unknown-optimizer.safetensors', 'opt_g.kind', '"kind":"adam"', '"kind":"adagrad"'),
        ('config-zero-batch.safetensors', 'batch_size', '"batch_size":16', '"batch_size":0'),
        ('config-missing-steps.safetensors', 'steps', '"steps":1,', ''),
        ('config-wrong-type.safetensors', 'model.width', '"width":16', '"width":"16"'),
        # reads, but is no model that can be built: a DCGAN of 30x30 images
        ('config-impossible-model.safetensors', 'image size 30', '"kind":"toy","z_dim":2,"channels":1,"image_size":28',
         '"kind":"dcgan","z_dim":2,"channels":1,"image_size":30'),
    ]
    for name, field, old, new in edits:
        if check(old in cfg, 'the config metadata holds %s' % old, cfg):
            refused(variant(name, meta_key='config', meta_value=cfg.replace(old, new, 1)), field)

    # a valid safetensors file that is not a clgan checkpoint
    foreign = os.path.join(tmp, 'foreign.safetensors')
    st_write(foreign, {'model.embed_tokens.weight': {'dtype': 'F32', 'shape': [2, 3],
                                                     'data': struct.pack('<6f', 1, 2, 3, 4, 5, 6)}}, {'format': 'pt'})
    refused(foreign, 'format')
    # not a safetensors file at all, and a missing one
    refused(spit('notes.txt', b'these are not the tensors you are looking for\n'), 'header length')
    missing = os.path.join(tmp, 'no-such-file.safetensors')
    expect(['sample', '--checkpoint', missing, '--device', 'ref'], 1, err_re=has('clgan: error:', missing),
           what='clgan sample refuses a missing checkpoint, naming it')


# ---------------------------------------------------------------------------
# run_folder: what a run leaves behind, and clgan sample on it. Fails when
# config.json is missing, unparsable, holds other values than the run's or
# does not read back to the same text (the checkpoints hold the same text, and
# --resume at the last step, which reads it from the checkpoint, writes it
# again unchanged), a log line is not JSON or lacks a documented key or has the
# wrong step, a sample PNG is missing, undecodable, a single colour or of the
# wrong size (a grid of 8 columns, one row per class for a conditional model;
# a 512x512 scatter plot for the toy model), `latest` points elsewhere than the
# newest checkpoint, more than --keep-checkpoints remain, or clgan sample does
# not write what it is asked for or accepts bad labels.
# ---------------------------------------------------------------------------
LOG_DOCUMENTED = ['step', 'epoch', 'loss_d', 'loss_g', 'd_real', 'd_fake', 'penalty', 'r1', 'grad_norm_d', 'grad_norm_g',
                  'lr_g', 'lr_d', 'images_per_s', 'elapsed_s', 'device']


def check_png(path, want_w, want_h):
    try:
        w, h, ch, px = png_read(path)
    except (OSError, ValueError, struct.error, zlib.error) as e:
        check(False, '%s decodes' % path, str(e))
        return
    if check((w, h) == (want_w, want_h), '%s is %dx%d' % (path, want_w, want_h), 'it is %dx%d' % (w, h)):
        check(px.count(px[0]) != len(px), '%s is not a single colour' % path)


def check_grid_png(path, n, cols, side):
    check_png(path, *grid_size(n, side, cols))


def count_files(directory, suffix):
    return len([f for f in os.listdir(directory) if f.endswith(suffix)]) if os.path.isdir(directory) else -1


def check_config(run_dir, model, steps, keep):
    p = os.path.join(run_dir, 'config.json')
    try:
        with open(p) as f:
            text = f.read()
        cfg = json.loads(text)
    except (OSError, ValueError) as e:
        check(False, '%s is JSON' % p, str(e))
        return
    got = (cfg.get('model', {}).get('kind') if isinstance(cfg.get('model'), dict) else None, cfg.get('steps'),
           cfg.get('keep_checkpoints'), cfg.get('out_dir'))
    check(got == (model, steps, keep, run_dir), '%s: model %s, steps %d, keep %d, out_dir the run folder'
          % (p, model, steps, keep), 'got %r' % (got,))
    _, meta = st_read(os.path.join(run_dir, 'latest'))
    check(meta.get('config') == text.rstrip('\n'), '%s is the configuration the checkpoints hold' % p,
          '  file        %s\n  checkpoint  %s' % (text, meta.get('config')))
    # read back (from the latest checkpoint) and written again: the same text
    expect(['train', '--resume', run_dir, '--steps', str(steps), '--device', 'ref', '--quiet'], 0,
           what='--resume %s at its last step' % os.path.basename(run_dir))
    with open(p) as f:
        again = f.read()
    check(again == text, '%s reads back and is written again as the same text' % p,
          '  first  %s\n  again  %s' % (text, again))


def check_log(run_dir, steps):
    """every line a JSON object with exactly the documented keys; steps as expected"""
    p = os.path.join(run_dir, 'log.jsonl')
    if not check(os.path.exists(p), '%s exists' % p):
        return
    with open(p) as f:
        lines = f.read().split('\n')
    lines = [l for l in lines if l]
    bad, got = [], []
    for i, l in enumerate(lines, 1):
        try:
            row = json.loads(l)
        except ValueError:
            row = None
        if not isinstance(row, dict):
            bad.append('line %d is not a JSON object: %s' % (i, l))
            continue
        for k in LOG_DOCUMENTED:
            v = row.get(k)
            ok = isinstance(v, str) if k == 'device' else (number_kind(v) == 'number' and math.isfinite(v))
            if not ok:
                bad.append('line %d: %s missing or not a finite number/string: %s' % (i, k, l))
        if len(row) != len(LOG_DOCUMENTED):
            bad.append('line %d: %d keys, documented %d: %s' % (i, len(row), len(LOG_DOCUMENTED), l))
        got.append(row.get('step'))
    check(not bad, '%s: every line a JSON object with the documented keys' % p, '\n'.join(bad))
    check(got == steps, '%s: steps %s' % (p, steps), 'got %s' % got)


def check_checkpoints(run_dir, kept):
    cdir = os.path.join(run_dir, 'checkpoints')
    check(count_files(cdir, '.safetensors') == len(kept), '%s holds %d checkpoints' % (cdir, len(kept)),
          repr(sorted(os.listdir(cdir)) if os.path.isdir(cdir) else None))
    for s in kept:
        check(os.path.exists(ckpt(run_dir, s)), '%s exists' % ckpt(run_dir, s))
    link = os.path.join(run_dir, 'latest')
    want = 'checkpoints/step_%08d.safetensors' % kept[-1]
    if check(os.path.islink(link), '%s is a symbolic link' % link):
        check(os.readlink(link) == want, '%s -> %s' % (link, want), 'it points to %s' % os.readlink(link))
        try:
            _, meta = st_read(link)
            ok = meta.get('format') == 'clgan-checkpoint' and meta.get('g_steps') == str(kept[-1]) and \
                isinstance(json.loads(meta.get('config', 'null')), dict)
        except (OSError, ValueError, KeyError, struct.error) as e:
            ok, meta = False, str(e)
        check(ok, '%s is a clgan checkpoint of step %d with its configuration' % (link, kept[-1]), repr(meta))


def part_run_folder(tmp):
    images = write_tiny_idx(tmp, 60)

    # the toy model: scatter plots, frequent checkpoints, pruning
    run_dir = os.path.join(tmp, 'toy')
    expect(['train', '--model', 'toy', '--steps', '30', '--batch-size', '32', '--width', '32', '--log-every', '5',
            '--sample-every', '10', '--checkpoint-every', '10', '--keep-checkpoints', '2', '--device', 'ref',
            '--out', run_dir], 0, what='the toy run')
    check_config(run_dir, 'toy', 30, 2)
    check_log(run_dir, [5, 10, 15, 20, 25, 30])
    check_checkpoints(run_dir, [20, 30])
    for s in range(0, 31, 10):
        check_png(os.path.join(run_dir, 'samples', 'step_%08d.png' % s), 512, 512)
    samples = os.path.join(run_dir, 'samples')
    check(count_files(samples, '.png') == 4, '%s holds 4 PNGs' % samples, repr(os.listdir(samples)))
    # clgan sample on a toy run: a scatter plot; --out-dir makes no sense
    p = os.path.join(tmp, 'toy-sample.png')
    expect(['sample', '--checkpoint', run_dir, '--count', '500', '--device', 'ref', '--out', p], 0,
           out_re=has('wrote', 'step 30'))
    check_png(p, 512, 512)
    expect(['sample', '--checkpoint', run_dir, '--labels', '1', '--device', 'ref', '--out', p], 2,
           err_re=has('not conditional'))
    q = os.path.join(tmp, 'toy-dir')
    os.mkdir(q)
    expect(['sample', '--checkpoint', run_dir, '--device', 'ref', '--out-dir', q], 1,
           err_re=has('clgan: error:', '--out-dir'))

    # an unconditional DCGAN on images: 8x8 grids of 28x28
    run_dir = os.path.join(tmp, 'dcgan')
    expect(['train', '--model', 'dcgan', '--dataset', 'idx', '--data', images, '--width', '8', '--z-dim', '16',
            '--batch-size', '8', '--steps', '4', '--log-every', '2', '--sample-every', '2', '--checkpoint-every', '2',
            '--device', 'ref', '--out', run_dir], 0, what='the DCGAN run')
    check_config(run_dir, 'dcgan', 4, 3)
    check_log(run_dir, [2, 4])
    check_checkpoints(run_dir, [2, 4])
    for s in range(0, 5, 2):
        check_grid_png(os.path.join(run_dir, 'samples', 'step_%08d.png' % s), 64, 8, 28)
    # reals.png: the data's first images in the same grid, cell (row 0, column 1) holding image 1's pixels
    reals = os.path.join(run_dir, 'samples', 'reals.png')
    check_grid_png(reals, 64, 8, 28)
    try:
        w, _, ch, px = png_read(reals)
        with open(images, 'rb') as f:
            idx = f.read()
        want = [idx[16 + 28 * 28 + r * 28:16 + 28 * 28 + (r + 1) * 28] for r in range(28)]
        x0, y0 = 2 + 30, 2
        got = [bytes(px[((y0 + r) * w + x0 + c) * ch] for c in range(28)) for r in range(28)]
        check(got == want, 'reals.png cell 1 is the data set\'s image 1')
    except (OSError, ValueError) as e:
        check(False, 'reals.png reads', str(e))
    # clgan sample: a run folder (its latest) or a file; a grid or one PNG per image
    p = os.path.join(tmp, 'grid-from-dir.png')
    expect(['sample', '--checkpoint', run_dir, '--count', '20', '--device', 'ref', '--out', p], 0,
           out_re=has('wrote', '(20 samples, step 4)'))
    check_grid_png(p, 20, 8, 28)
    p = os.path.join(tmp, 'grid-from-file.png')
    expect(['sample', '--checkpoint', ckpt(run_dir, 2), '--count', '12', '--cols', '4', '--device', 'ref', '--out', p],
           0, out_re=has('wrote', '(12 samples, step 2)'))
    check_grid_png(p, 12, 4, 28)
    q = os.path.join(tmp, 'images')
    os.mkdir(q)
    expect(['sample', '--checkpoint', run_dir, '--count', '5', '--device', 'ref', '--out-dir', q], 0,
           out_re=has('wrote 5 images'))
    check(count_files(q, '.png') == 5, '%s holds 5 PNGs' % q, repr(os.listdir(q)))
    for i in range(5):
        check_png(os.path.join(q, '%06d.png' % i), 28, 28)
    expect(['sample', '--checkpoint', run_dir, '--labels', '3', '--device', 'ref', '--out', os.path.join(tmp, 'x.png')],
           2, err_re=has('not conditional'))

    # a conditional DCGAN: one row per class
    run_dir = os.path.join(tmp, 'cdcgan')
    expect(['train', '--model', 'dcgan', '--conditional', '--loss', 'hinge', '--dataset', 'idx', '--data', images,
            '--width', '8', '--z-dim', '16', '--batch-size', '10', '--steps', '2', '--sample-every', '1',
            '--checkpoint-every', '0', '--device', 'ref', '--out', run_dir], 0, what='the conditional DCGAN run')
    check_log(run_dir, [2])
    check_checkpoints(run_dir, [2])
    for s in range(3):
        check_grid_png(os.path.join(run_dir, 'samples', 'step_%08d.png' % s), 10 * 8, 8, 28)
    p = os.path.join(tmp, 'class3.png')
    expect(['sample', '--checkpoint', run_dir, '--labels', '3', '--count', '8', '--device', 'ref', '--out', p], 0,
           out_re=has('wrote'))
    check_grid_png(p, 8, 8, 28)
    expect(['sample', '--checkpoint', run_dir, '--labels', '0,9,4', '--count', '6', '--device', 'ref', '--out', p], 0,
           out_re=has('wrote'))
    for labels in ('10', '1,-2', 'cat', ''):
        expect(['sample', '--checkpoint', run_dir, '--labels', labels, '--device', 'ref', '--out', p], 2,
               err_re=has('--labels', '[0, 10)'))


# ---------------------------------------------------------------------------
# stop: SIGINT or SIGTERM finishes the step, writes samples, a checkpoint and
# latest, and exits 130 or 143; the run resumes from there; a second SIGINT
# quits at once and leaves whole checkpoints. Fails when a signal loses the
# run's state, exits with another status, or the run cannot go on.
def start_run(run_dir, *extra):
    env = dict(os.environ)
    for k in ('CLGAN_DEVICE', 'CLGAN_KERNEL_DIR'):
        env.pop(k, None)
    return subprocess.Popen([BIN, 'train', *TOY, '--dataset', 'ring8', '--steps', '100000000', '--log-every', '1',
                             '--checkpoint-every', '0', '--out', run_dir, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_rows(proc, run_dir, n, limit=300):
    """waits until log.jsonl has n rows (or the process ended); True when it has"""
    path = os.path.join(run_dir, 'log.jsonl')
    end = time.time() + limit
    while time.time() < end and proc.poll() is None:
        if os.path.exists(path) and len(log_rows(run_dir)) >= n:
            return True
        time.sleep(0.2)
    return False


def checkpoint_step(path):
    _, meta = st_read(path)
    return int(meta.get('g_steps', -1))


def part_stop(tmp):
    for sig, code, name in ((signal.SIGINT, 130, 'SIGINT'), (signal.SIGTERM, 143, 'SIGTERM')):
        run_dir = os.path.join(tmp, name)
        proc = start_run(run_dir)
        started = wait_rows(proc, run_dir, 3)
        check(started, '%s: the run is under way (3 log rows)' % name)
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        check(proc.returncode == code, '%s: exit status %d' % (name, code), 'got %s\n%s' % (proc.returncode, err))
        check(re.search(r'stopped by %s; checkpoint in .*latest; continue with clgan train --resume' % name, err),
              '%s: says where the checkpoint is and how to go on' % name, err)
        rows = log_rows(run_dir)
        latest = os.path.join(run_dir, 'latest')
        if not check(os.path.islink(latest) and rows, '%s: latest and the log exist' % name):
            continue
        last = rows[-1]['step']
        check(checkpoint_step(os.path.realpath(latest)) == last,
              '%s: latest holds the last logged step (%d)' % (name, last))
        check(os.path.exists(os.path.join(run_dir, 'samples', 'step_%08d.png' % last)),
              '%s: the samples of that step were written' % name)
        expect(['train', '--resume', run_dir, '--steps', str(last + 2), '--device', 'ref', '--quiet'], 0,
               what='%s: the stopped run resumes' % name)
        check(log_rows(run_dir)[-1]['step'] == last + 2, '%s: and goes on to step %d' % (name, last + 2))
    # twice: at once, and the checkpoints on disk stay whole
    run_dir = os.path.join(tmp, 'twice')
    proc = start_run(run_dir, '--checkpoint-every', '1', '--keep-checkpoints', '2')
    check(wait_rows(proc, run_dir, 3), 'twice: the run is under way')
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    check(proc.returncode == 130, 'twice: exit status 130 within a minute', str(proc.returncode))
    latest = os.path.realpath(os.path.join(run_dir, 'latest'))
    try:
        whole = checkpoint_step(latest) > 0
    except (OSError, ValueError, KeyError, struct.error):
        whole = False
    check(whole, 'twice: latest is a whole checkpoint', latest)
    expect(['train', '--resume', run_dir, '--steps', '100', '--device', 'ref', '--quiet'], 0,
           what='twice: the run resumes from it')
    return 0


def main():
    part = sys.argv[1] if len(sys.argv) > 1 else ''
    parts = {'inputs': part_inputs, 'divergence': part_divergence, 'schedule': part_schedule, 'check': part_check,
             'resume': part_resume, 'checkpoints': part_checkpoints, 'run_folder': part_run_folder, 'stop': part_stop, 'ema': part_ema,
             'r1': part_r1, 'spectral': part_spectral, 'augment': part_augment, 'pack': part_pack}
    if part not in parts:
        print('usage: test_train_cli.py ' + '|'.join(parts), file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix='clgan-train-cli-')
    try:
        result = parts[part](tmp)
    finally:
        if not failures:
            shutil.rmtree(tmp)
        else:
            print('left ' + tmp + ' for inspection')
    print('%d failed' % len(failures))
    if failures:
        return 1
    return 77 if result == 'skip' else 0


if __name__ == '__main__':
    sys.exit(main())
