#!/usr/bin/env python3
"""Command-line tests of `clgan train` and `clgan check` (suite 'train').

    test_train_cli.py inputs      bad options, data sets and run folders: exit status and a clear message
    test_train_cli.py divergence  NaN/Inf stops with the step and the last good checkpoint; --on-nan rollback
                                  rolls back, halves the learning rates and leaves a usable run folder
    test_train_cli.py schedule    --lr-schedule linear/step: the rate each step used, in log.jsonl; resume keeps it;
                                  the toy model's --widths
    test_train_cli.py check       clgan check passes on the OpenCL device and fails, naming the layers,
                                  on deliberately broken kernels (77 without an OpenCL device)

Runs the real clgan binary ($CLGAN_BIN) on the ref device unless a part needs
an OpenCL device. Every check prints 'ok' or 'FAIL' with the command's output;
the program exits 1 if any failed. A crash (a signal or a sanitizer abort)
never passes: every expectation names the exact exit status."""
import json
import os
import re
import shutil
import struct
import sys
import tempfile

from cli_check import check, expect, failures, run

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
        (['--d-norm', 'group'], r'--d-norm group: expected batch, layer or none'),
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
        check(any(r[0] == 'FAIL' for r in conv0) and any(r[0] == 'ok' for r in conv0),
              'tanh: d.conv0 fails on generated images and passes on real ones', repr(conv0))
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


def main():
    part = sys.argv[1] if len(sys.argv) > 1 else ''
    parts = {'inputs': part_inputs, 'divergence': part_divergence, 'schedule': part_schedule, 'check': part_check}
    if part not in parts:
        print('usage: test_train_cli.py inputs|divergence|schedule|check', file=sys.stderr)
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
