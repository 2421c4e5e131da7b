#!/usr/bin/env python3
"""clgan train-classifier and clgan eval, end to end through the binary.

  toy         eval of tiny ring8 and grid25 toy checkpoints: the four JSON keys, the text form, refusals
  classifier  train-classifier on 2000 MNIST test images (1500 trained on, 500 measured) reaches > 80%;
              its file's metadata; the four-file MNIST layout and the default output location
              (77 without $CLGAN_SHARED_DATA/mnist or without an OpenCL device)
  image       eval --json of a tiny Fashion-MNIST DCGAN with a quickly trained classifier: fid,
              inception_score, class_histogram; the default classifier location
              (77 without Fashion-MNIST or without an OpenCL device)
  during_training  clgan train --eval-every with a quick classifier on ref: the log lines, `best` and its
              checkpoint (kept from pruning, its metadata), resume, training bit-identical with and without
              evaluation, --eval-metric precision, the refusals (77 without Fashion-MNIST)
  errors      a missing classifier, one for another data set, size or channel count, corrupt and
              foreign files: each a clear error naming the file and what to do (77 without Fashion-MNIST)

Every check prints ok/FAIL; the script exits 1 when any failed."""
import glob
import json
import os
import re
import shutil
import subprocess
import struct
import sys
import tempfile

from cli_check import check, expect, failures, must, run, st_read

SHARED = os.environ.get('CLGAN_SHARED_DATA', '')
MNIST = os.path.join(SHARED, 'mnist')
FASHION = '/usr/share/datasets/fashion-mnist'
SKIP = 77


def has_opencl():
    code, out, _ = run('devices')
    return code == 0 and re.search(r'^[* ] \d+:\d+ ', out, re.M) is not None


def fashion_present():
    return all(os.path.exists(os.path.join(FASHION, f)) for f in
               ('train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'))


def mnist_present():
    return all(os.path.exists(os.path.join(MNIST, 't10k-%s.gz' % f)) for f in ('images-idx3-ubyte', 'labels-idx1-ubyte'))


def st_meta(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        return json.loads(f.read(n)).get('__metadata__', {})


def write_meta_only(path, meta):
    """A valid safetensors file holding only __metadata__ (no tensors)."""
    header = json.dumps({'__metadata__': meta}).encode()
    header += b' ' * (-len(header) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(header)) + header)


def classifier_meta(**over):
    meta = {'format': 'clgan-classifier', 'format_version': '1', 'clgan_version': '0.1.0', 'dataset': 'fashion-mnist',
            'image_size': '28', 'channels': '1', 'classes': '10', 'features': '128', 'test_accuracy': '0.9',
            'test_set': 'hand-made', 'train_images': '1', 'epochs': '1'}
    meta.update(over)
    return meta


def tiny_gan(tmp, name, *extra):
    out = os.path.join(tmp, name)
    must(['train', '--model', 'dcgan', '--dataset', 'fashion-mnist', '--width', '8', '--batch-size', '16',
          '--steps', '2', '--sample-every', '0', '--checkpoint-every', '0', '--out', out, '--quiet', *extra],
         'train a tiny DCGAN on Fashion-MNIST')
    return out


def part_toy(tmp):
    for ds, modes in (('ring8', 8), ('grid25', 25)):
        run_dir = os.path.join(tmp, ds)
        must(['train', '--model', 'toy', '--dataset', ds, '--steps', '40', '--sample-every', '0',
              '--checkpoint-every', '0', '--out', run_dir, '--quiet'], 'train a tiny toy GAN on ' + ds)
        _, out, _ = expect(['eval', '--checkpoint', run_dir, '--json'], 0, what='eval --json on a %s toy checkpoint' % ds)
        try:
            j = json.loads(out)
        except ValueError:
            j = None
        if not check(isinstance(j, dict), '%s: eval --json prints one JSON object' % ds, out):
            continue
        check(set(j) == {'modes_covered', 'modes_total', 'high_quality_fraction', 'reverse_kl'},
              '%s: the four keys, no others' % ds, str(j))
        check(j.get('modes_total') == modes, '%s: modes_total is %d' % (ds, modes), str(j))
        cov, hq, kl = j.get('modes_covered'), j.get('high_quality_fraction'), j.get('reverse_kl')
        check(isinstance(cov, int) and 0 <= cov <= modes, '%s: modes_covered an integer in [0, %d]' % (ds, modes), str(j))
        check(isinstance(hq, (int, float)) and 0 <= hq <= 1, '%s: high_quality_fraction in [0, 1]' % ds, str(j))
        check((kl is None) == (cov == 0) and (kl is None or kl >= -1e-12),
              '%s: reverse_kl a non-negative number (null only when no mode is covered)' % ds, str(j))
        # the same seed gives the same numbers; the checkpoint file itself works too
        _, again, _ = expect(['eval', '--checkpoint', os.path.join(run_dir, 'latest'), '--json'], 0,
                          what='%s: eval of the checkpoint file' % ds)
        check(again == out, '%s: the same seed gives the same result' % ds, out + again)
        expect(['eval', '--checkpoint', run_dir], 0, out_re=r'modes covered: \d+ / %d.*high-quality.*reverse KL' % modes,
               what='%s: eval in text form' % ds)
    run_dir = os.path.join(tmp, 'ring8')
    _, out, _ = expect(['eval', '--checkpoint', run_dir, '--json', '--samples', '300', '--seed', '9'], 0,
                    what='eval --samples 300 --seed 9')
    expect(['eval', '--checkpoint', run_dir, '--classifier', 'x.safetensors'], 2, err_re=r'2-D data',
           what='--classifier with a toy model is refused')
    expect(['eval', '--checkpoint', run_dir, '--samples', '1'], 2, err_re=r'--samples 1', what='--samples 1 is refused')
    expect(['eval'], 2, err_re=r'--checkpoint FILE is required', what='eval without --checkpoint')
    expect(['eval', '--checkpoint', os.path.join(tmp, 'none')], 1, err_re=r'none', what='eval of a missing checkpoint')
    empty = os.path.join(tmp, 'started-run')
    os.makedirs(os.path.join(empty, 'checkpoints'))
    expect(['eval', '--checkpoint', empty], 1, err_re=re.escape(empty) + r'/latest: no latest checkpoint.*run folder',
           what='eval of a run folder without a checkpoint yet says so')


def accuracy_of(out):
    m = re.search(r'test accuracy ([\d.]+)%', out)
    return float(m.group(1)) if m else -1.0


def part_classifier(tmp):
    if not mnist_present():
        print('no MNIST test set under %s: skipping' % MNIST)
        return SKIP
    if not has_opencl():
        print('no OpenCL device: skipping (training on ref takes minutes)')
        return SKIP
    path = os.path.join(tmp, 'mnist.safetensors')
    _, out, err = expect(['train-classifier', '--dataset', 'mnist', '--data', MNIST, '--train-on-test', '1500',
                       '--limit', '2000', '--epochs', '2', '--out', path], 0, out_re=r'test accuracy',
                      what='train-classifier on 1500 MNIST test images')
    print(out + err)
    acc = accuracy_of(out)
    check(acc > 80, 'held-out accuracy %.2f%% > 80%%' % acc, out)
    check('500 of its 10000' in out, 'the report says what the accuracy was measured on', out)
    if check(os.path.exists(path), 'the classifier file exists'):
        meta = st_meta(path)
        want = {'format': 'clgan-classifier', 'format_version': '1', 'dataset': 'mnist', 'image_size': '28',
                'channels': '1', 'classes': '10', 'features': '128', 'train_images': '1500', 'epochs': '2'}
        check(all(meta.get(k) == v for k, v in want.items()), 'its metadata', str(meta))
        check(abs(float(meta.get('test_accuracy', -1)) * 100 - acc) < 0.01, 'its test_accuracy is the printed one',
              str(meta))
        check('500 of its 10000' in meta.get('test_set', ''), 'its test_set', str(meta))
    # the four standard files (here the test files stand in for the train files too), written to the
    # default location
    four = os.path.join(tmp, 'mnist4')
    os.mkdir(four)
    for kind in ('images-idx3-ubyte', 'labels-idx1-ubyte'):
        for split in ('train', 't10k'):
            os.symlink(os.path.join(MNIST, 't10k-%s.gz' % kind), os.path.join(four, '%s-%s.gz' % (split, kind)))
    xdg = os.path.join(tmp, 'xdg')
    _, out, _ = expect(['train-classifier', '--dataset', 'mnist', '--data', four, '--limit', '640', '--epochs', '1'], 0,
                    out_re=r'mnist test split \(640 images\)', env={'XDG_DATA_HOME': xdg},
                    what='train-classifier with the four standard MNIST files, default --out')
    default = os.path.join(xdg, 'clgan', 'classifiers', 'mnist-1x28x28.safetensors')
    check(os.path.exists(default) and default in out, 'written to the default location ' + default, out)
    expect(['train-classifier', '--dataset', 'mnist', '--data', MNIST, '--train-on-test', '300', '--limit', '300'], 1,
           err_re=r'leaves none', what='--train-on-test N >= the images used is refused')
    expect(['train-classifier', '--dataset', 'mnist', '--data', tmp], 1, err_re=r'no train-images-idx3-ubyte',
           what='train-classifier without the train files names them')
    return 0


def part_image(tmp):
    if not fashion_present():
        print('no Fashion-MNIST in %s: skipping' % FASHION)
        return SKIP
    if not has_opencl():
        print('no OpenCL device: skipping')
        return SKIP
    clf = os.path.join(tmp, 'fashion.safetensors')
    must(['train-classifier', '--dataset', 'fashion-mnist', '--limit', '1000', '--epochs', '1', '--out', clf, '--quiet'],
         'train a quick Fashion-MNIST classifier')
    gan = tiny_gan(tmp, 'gan')
    _, out, _ = expect(['eval', '--checkpoint', gan, '--classifier', clf, '--json', '--samples', '600', '--real', '1000'],
                    0, what='eval --json of an image checkpoint')
    try:
        j = json.loads(out)
    except ValueError:
        j = None
    if check(isinstance(j, dict), 'eval --json prints one JSON object', out):
        check(set(j) == {'fid', 'inception_score', 'class_histogram'}, 'the three keys, no others', str(j))
        fid, is_, hist = j.get('fid'), j.get('inception_score'), j.get('class_histogram')
        check(isinstance(fid, (int, float)) and fid >= 0, 'fid a non-negative number', str(j))
        check(isinstance(is_, (int, float)) and 1 - 1e-9 <= is_ <= 10 + 1e-9, 'inception_score in [1, 10]', str(j))
        check(isinstance(hist, list) and len(hist) == 10 and all(isinstance(h, int) and h >= 0 for h in hist) and
              sum(hist) == 600, 'class_histogram: 10 counts summing to the 600 samples', str(j))
    expect(['eval', '--checkpoint', gan, '--classifier', clf, '--samples', '300', '--real', '500'], 0,
           out_re=r'FID \(classifier features\): [\d.]+.*inception score \(classifier\): [\d.]+.*predicted classes',
           what='eval in text form')
    # the default location
    xdg = os.path.join(tmp, 'xdg')
    os.makedirs(os.path.join(xdg, 'clgan', 'classifiers'))
    default = os.path.join(xdg, 'clgan', 'classifiers', 'fashion-mnist-1x28x28.safetensors')
    shutil.copy(clf, default)
    expect(['eval', '--checkpoint', gan, '--samples', '300', '--real', '500'], 0, out_re=re.escape(default),
           env={'XDG_DATA_HOME': xdg}, what='eval finds the classifier at its default location')
    return 0


def inception_weights(tmp):
    """$CLGAN_INCEPTION_WEIGHTS, else the copy the C test fetches into the cache, else fetched now with the
    project's converter; None without network"""
    given = os.environ.get('CLGAN_INCEPTION_WEIGHTS')
    if given:
        return given if os.path.exists(given) else None
    cache = os.path.join(os.environ['CLGAN_CACHE_DIR'], 'inception', 'pt_inception-2015-12-05.safetensors')
    if not os.path.exists(cache):
        convert = os.path.join(os.environ.get('CLGAN_SOURCE_ROOT', '.'), 'tools', 'inception_convert.py')
        subprocess.run([sys.executable, convert, '--out', cache])
    return cache if os.path.exists(cache) else None


def part_inception(tmp):
    if not fashion_present():
        print('no Fashion-MNIST in %s: skipping' % FASHION)
        return SKIP
    if not has_opencl():
        print('no OpenCL device: skipping')
        return SKIP
    weights = inception_weights(tmp)
    if not weights:
        print('no Inception weights and none could be fetched (no network?): skipping')
        return SKIP
    gan = tiny_gan(tmp, 'gan')
    _, out, _ = expect(['eval', '--checkpoint', gan, '--features', 'inception', '--inception', weights, '--json',
                        '--samples', '6', '--real', '6'], 0, what='eval --features inception --json')
    try:
        j = json.loads(out)
    except ValueError:
        j = None
    if check(isinstance(j, dict), 'one JSON object', out):
        check(set(j) == {'fid', 'kid', 'kid_std', 'precision', 'recall', 'features', 'samples', 'real'} and
              j['features'] == 'inception' and
              j['samples'] == 6 and j['real'] == 6, 'its keys and counts', str(j))
        check(isinstance(j.get('fid'), (int, float)) and j['fid'] > 0, 'a positive FID for a 2-step generator', str(j))
        check(isinstance(j.get('kid'), (int, float)) and j['kid'] > 0 and j.get('kid_std', -1) >= 0,
              'a positive KID and its std', str(j))
        check(all(isinstance(j.get(k), (int, float)) and 0 <= j[k] <= 1 for k in ('precision', 'recall')),
              'precision and recall in [0, 1]', str(j))
    # during training: the logged metrics are clgan eval's of the same checkpoint with the training's
    # evaluation noise (seed ^ 0x4556414c, seed 1 here)
    ev = os.path.join(tmp, 'ev')
    must(['train', '--model', 'dcgan', '--dataset', 'fashion-mnist', '--width', '8', '--batch-size', '16', '--steps', '2',
          '--sample-every', '0', '--eval-every', '2', '--eval-features', 'inception', '--eval-network', weights,
          '--eval-samples', '6', '--out', ev, '--quiet'], 'train with Inception evaluation during training')
    lines = eval_lines(ev)
    _, out, _ = expect(['eval', '--checkpoint', ev, '--features', 'inception', '--inception', weights, '--json',
                        '--samples', '6', '--real', '6', '--seed', str(1 ^ 0x4556414c)], 0,
                       what='eval of the run with its evaluation noise')
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    check(len(lines) == 1 and lines[0]['eval_features'] == 'inception' and
          all(abs(lines[0][k] - j.get(k, float('nan'))) <= 1e-9 * max(1.0, abs(lines[0][k]))
              for k in ('fid', 'kid', 'precision', 'recall')),
          'the metrics logged at step 2 are those clgan eval gives for its checkpoint', '%s | %s' % (lines, j))
    # gray data: the classifier stays the default even with the weights installed
    expect(['eval', '--checkpoint', gan, '--samples', '6', '--real', '6'], 1, env={'CLGAN_INCEPTION_WEIGHTS': weights},
           err_re=r'classifier', what='gray data defaults to the classifier (here absent: an error naming it)')
    expect(['eval', '--checkpoint', gan, '--features', 'inception', '--inception', os.path.join(tmp, 'none.st')], 1,
           err_re=r'no Inception weights at .*none\.st.*datasets/fetch\.sh inception', what='missing weights named')
    expect(['eval', '--checkpoint', gan, '--features', 'fid'], 2, err_re=r'--features fid: expected inception or '
           r'classifier', what='an unknown feature network')
    # a folder of PNGs against a data set, and against itself
    pngs = os.path.join(tmp, 'pngs')
    must(['sample', '--checkpoint', gan, '--count', '6', '--out-dir', pngs, '--device', 'ref', '--quiet'],
         'sample 6 PNGs')
    feats = os.path.join(tmp, 'feats', 'f.safetensors')
    _, out, _ = expect(['eval', '--images', pngs, '--against', 'fashion-mnist', '--real', '6', '--inception', weights,
                        '--save-features', feats, '--json'], 0, what='eval --images DIR --against DATASET')
    try:
        j = json.loads(out)
    except ValueError:
        j = None
    check(isinstance(j, dict) and j.get('images') == 6 and j.get('against') == 6 and j.get('fid', -1) > 0,
          'a positive FID of 6 images against 6 test images', out)
    try:
        tensors, _ = st_read(feats)
    except Exception as e:  # noqa: BLE001 (any failure to read is a failed check)
        tensors = {}
        print('cannot read %s: %s' % (feats, e))
    f = tensors.get('features')
    check(f is not None and set(tensors) == {'features'} and f['dtype'] == 'F32' and f['shape'] == [6, 2048],
          '--save-features: one tensor, features 6 x 2048 F32', str({k: v['shape'] for k, v in tensors.items()}))
    _, out, _ = expect(['eval', '--images', pngs, '--against', pngs, '--inception', weights, '--json'], 0,
                       what='eval --images DIR --against the same DIR')
    try:
        j = json.loads(out)
    except ValueError:
        j = None
    check(isinstance(j, dict) and abs(j.get('fid', 1)) < 1e-3 and j.get('precision') == 1 and j.get('recall') == 1,
          'a set against itself: FID 0, precision and recall 1', out)
    # the data set's features are cached: a second run reads them back, a corrupt entry is computed again
    cache = os.path.join(tmp, 'feature-cache')
    args = ['eval', '--images', pngs, '--against', 'fashion-mnist', '--real', '6', '--inception', weights,
            '--cache-dir', cache, '--verbose']
    _, out1, err1 = expect(args, 0, what='eval with a fresh feature cache')
    _, out2, err2 = expect(args, 0, err_re=r'features of fashion-mnist: from the cache', what='the second run hits it')
    check(out1 == out2, 'the same FID from cached features', out1 + out2)
    entries = glob.glob(os.path.join(cache, 'inception-features', '*.safetensors'))
    check(len(entries) == 2, 'one cache entry per image set', str(entries))
    for e in entries:
        with open(e, 'r+b') as f:
            f.write(b'garbage!')
    _, out3, err3 = expect(args, 0, err_not=r'from the cache', what='corrupt cache entries are computed again')
    check(out3 == out1, 'the same FID after recomputing', out1 + out3)
    expect(['eval', '--images', pngs, '--inception', weights], 2, err_re=r'--images needs --against',
           what='--images without --against')
    expect(['eval', '--images', pngs, '--against', 'imagenet', '--inception', weights], 1,
           err_re=r'--against imagenet: neither a folder of PNGs nor a data set', what='an unknown --against')
    bad = os.path.join(tmp, 'bad.safetensors')
    with open(bad, 'wb') as f:
        f.write(b'\x08\x00\x00\x00\x00\x00\x00\x00{}      ')
    expect(['eval', '--checkpoint', gan, '--features', 'inception', '--inception', bad, '--samples', '2', '--real', '2'],
           1, err_re=r'bad\.safetensors.*clgan-inception', what='a file that is not the converted weights')
    return 0


def eval_lines(run_dir):
    with open(os.path.join(run_dir, 'log.jsonl')) as f:
        return [j for j in (json.loads(line) for line in f if line.strip()) if 'eval_features' in j]


def best_target(run_dir):
    link = os.path.join(run_dir, 'best')
    return os.readlink(link) if os.path.islink(link) else None


def check_best(run_dir, lines, what):
    """`best` and every line's "best" follow the running minimum of fid; the checkpoint it names exists
    and records that step and value"""
    best, best_step = None, None
    for j in lines:
        is_best = best is None or j['fid'] < best
        check(j['best'] == is_best, '%s: step %d best=%s is the running minimum of fid' % (what, j['step'], j['best']),
              str(j))
        if is_best:
            best, best_step = j['fid'], j['step']
    target = best_target(run_dir)
    check(target == 'checkpoints/step_%08d.safetensors' % best_step, '%s: best -> the step %s checkpoint' %
          (what, best_step), str(target))
    path = os.path.join(run_dir, target or 'none')
    if check(os.path.exists(path), '%s: the best checkpoint survives the pruning' % what, path):
        meta = st_meta(path)
        check(meta.get('best_step') == str(best_step) and float(meta.get('best_value', 'nan')) == best,
              '%s: its metadata holds best_step and best_value exactly' % what, str(meta))


def part_during_training(tmp):
    """clgan train --eval-every with the classifier: log lines, best, resume, and evaluation leaves the training
    untouched (bit for bit on ref); the refusals"""
    if not fashion_present():
        print('no Fashion-MNIST in %s: skipping' % FASHION)
        return SKIP
    clf = os.path.join(tmp, 'fashion.safetensors')
    must(['train-classifier', '--dataset', 'fashion-mnist', '--limit', '200', '--epochs', '1', '--out', clf, '--quiet',
          '--device', 'ref'], 'train a quick Fashion-MNIST classifier')
    common = ['train', '--model', 'dcgan', '--width', '8', '--batch-size', '16', '--device', 'ref', '--quiet',
              '--sample-every', '0']
    plain = os.path.join(tmp, 'plain')
    must(common + ['--steps', '4', '--checkpoint-every', '0', '--out', plain], 'train without evaluation')
    ev = os.path.join(tmp, 'ev')
    _, _, err = expect(common + ['--steps', '4', '--checkpoint-every', '1', '--keep-checkpoints', '1',
                                 '--eval-every', '2', '--eval-samples', '40', '--eval-network', clf, '--out', ev], 0,
                       what='train --eval-every 2 --eval-samples 40 with a named classifier')
    lines = eval_lines(ev)
    check([j['step'] for j in lines] == [2, 4], 'evaluations at steps 2 and 4', str(lines))
    keys = {'step', 'eval_features', 'eval_samples', 'eval_real', 'fid', 'kid', 'kid_std', 'precision', 'recall',
            'eval_metric', 'best', 'eval_s'}
    check(all(set(j) == keys for j in lines), 'each evaluation line has exactly its keys', str(lines))
    check(all(j['eval_features'] == 'classifier' and j['eval_samples'] == 40 and j['eval_real'] == 40 and
              j['eval_metric'] == 'fid' and j['fid'] > 0 and 0 <= j['precision'] <= 1 and 0 <= j['recall'] <= 1
              for j in lines), 'classifier features, 40 vs 40 images, fid > 0, precision and recall in [0, 1]',
          str(lines))
    check_best(ev, lines, 'eval')
    # evaluating generates in evaluation mode with its own noise: the training is the same to the bit
    a, _ = st_read(os.path.realpath(os.path.join(plain, 'latest')))
    b, _ = st_read(os.path.realpath(os.path.join(ev, 'latest')))
    check(set(a) == set(b) and all(a[k]['data'] == b[k]['data'] for k in a),
          'the parameters and optimizer state after 4 steps are bit-identical with and without evaluation')
    # resume: the best so far comes back from the checkpoint, evaluation goes on
    expect(['train', '--resume', ev, '--steps', '8', '--device', 'ref', '--quiet'], 0, what='resume an evaluating run')
    lines = eval_lines(ev)
    check([j['step'] for j in lines] == [2, 4, 6, 8], 'evaluations at 2, 4, then 6 and 8 after the resume', str(lines))
    check_best(ev, lines, 'resumed')
    # stays off unless asked; can be turned on when resuming
    check(eval_lines(plain) == [] and best_target(plain) is None, 'no evaluation, no best, by default')
    expect(['train', '--resume', plain, '--steps', '6', '--device', 'ref', '--quiet', '--eval-every', '2',
            '--eval-samples', '20', '--eval-network', clf], 0, what='evaluation turned on when resuming')
    check([j['step'] for j in eval_lines(plain)] == [6] and best_target(plain) is not None,
          'resumed with --eval-every 2: one evaluation at step 6 and a best link', str(eval_lines(plain)))
    # an evaluation of other sample counts is not compared with the earlier ones
    expect(['train', '--resume', ev, '--steps', '10', '--device', 'ref', '--eval-samples', '30'], 0,
           err_re=r'the best so far was of fid classifier 40, this evaluation is of fid classifier 30: best starts afresh',
           what='resume with another --eval-samples: best starts afresh')
    lines = eval_lines(ev)
    check(lines[-1]['step'] == 10 and lines[-1]['best'] and best_target(ev) == 'checkpoints/step_00000010.safetensors',
          'its first evaluation is the new best', str(lines[-1]))
    # a generator that does not learn (the MLP's G has no BatchNorm; its rate 0) gives the same FID each time: on a
    # tie the first stays best, older than the newest checkpoint, and survives --keep-checkpoints 1
    still = os.path.join(tmp, 'still')
    must(['train', '--model', 'mlp', '--widths', '64,64', '--lr-g', '0', '--batch-size', '16', '--steps', '3', '--device', 'ref', '--quiet',
          '--sample-every', '0', '--checkpoint-every', '1', '--keep-checkpoints', '1', '--eval-every', '1',
          '--eval-samples', '20', '--eval-network', clf, '--out', still], 'train an MLP GAN whose G stands still')
    lines = eval_lines(still)
    check(len(lines) == 3 and len({j['fid'] for j in lines}) == 1 and [j['best'] for j in lines] == [True, False, False],
          'three equal FIDs: only the first is best', str(lines))
    ckpts = sorted(os.listdir(os.path.join(still, 'checkpoints')))
    check(best_target(still) == 'checkpoints/step_00000001.safetensors' and
          ckpts == ['step_00000001.safetensors', 'step_00000003.safetensors'],
          'best -> step 1, kept beside the newest (step 3) while step 2 is pruned', str(ckpts))
    # another metric: higher precision is better
    pr = os.path.join(tmp, 'pr')
    must(common + ['--steps', '2', '--eval-every', '1', '--eval-samples', '20', '--eval-metric', 'precision',
                   '--eval-network', clf, '--out', pr], 'train --eval-metric precision')
    lines = eval_lines(pr)
    check(len(lines) == 2 and lines[0]['best'] and lines[1]['best'] == (lines[1]['precision'] > lines[0]['precision']),
          'with --eval-metric precision, best means higher', str(lines))
    # refusals: nothing is written
    empty = {'XDG_DATA_HOME': os.path.join(tmp, 'empty')}
    default = os.path.join(tmp, 'empty', 'clgan', 'classifiers', 'fashion-mnist-1x28x28.safetensors')
    none = os.path.join(tmp, 'none')
    expect(common + ['--steps', '2', '--eval-every', '1', '--out', none], 1, env=empty,
           err_re=r'evaluation during training: no classifier at ' + re.escape(default) +
                  r'.*clgan train-classifier --dataset fashion-mnist',
           what='no classifier installed: where, and how to make one')
    check(not os.path.exists(none), 'a run that cannot evaluate leaves no folder behind')
    expect(common + ['--steps', '2', '--eval-every', '1', '--eval-features', 'inception', '--eval-network',
                     os.path.join(tmp, 'nope.st'), '--out', none], 1,
           err_re=r'no Inception weights at .*nope\.st.*datasets/fetch\.sh inception', what='missing Inception weights')
    wrong = os.path.join(tmp, 'mnist-clf.safetensors')
    write_meta_only(wrong, classifier_meta(dataset='mnist'))
    expect(common + ['--steps', '2', '--eval-every', '1', '--eval-network', wrong, '--out', none], 1,
           err_re=re.escape(wrong) + r' was trained on mnist at 28x28.*generator makes fashion-mnist',
           what='a classifier of another data set is refused before training, as clgan eval refuses it')
    expect(common + ['--eval-every', '1', '--eval-metric', 'ssim', '--out', none], 2,
           err_re=r'--eval-metric ssim: expected fid, kid, precision or recall', what='an unknown metric')
    expect(common + ['--eval-every', '1', '--eval-features', 'vgg', '--out', none], 2,
           err_re=r'--eval-features vgg: expected classifier or inception', what='an unknown feature network')
    expect(common + ['--eval-every', '1', '--eval-samples', '3', '--eval-network', clf, '--out', none], 1,
           err_re=r'eval.samples 3', what='too few samples per evaluation')
    expect(['train', '--model', 'toy', '--dataset', 'ring8', '--eval-every', '1', '--out', none], 2,
           err_re=r'--eval-every: the toy model makes 2-D points', what='the toy model is measured by mode coverage')
    check(not os.path.exists(none), 'no folder behind any refusal')
    return 0


def part_errors(tmp):
    if not fashion_present():
        print('no Fashion-MNIST in %s: skipping' % FASHION)
        return SKIP
    gan = tiny_gan(tmp, 'gan')
    empty = {'XDG_DATA_HOME': os.path.join(tmp, 'empty')}
    default = os.path.join(tmp, 'empty', 'clgan', 'classifiers', 'fashion-mnist-1x28x28.safetensors')
    expect(['eval', '--checkpoint', gan], 1,
           err_re=re.escape('no classifier at ' + default) + r' \(the default location\).*'
                  r'clgan train-classifier --dataset fashion-mnist .*--image-size 28 --channels 1.*--classifier FILE',
           env=empty, what='a missing default classifier: where, and how to make one')
    missing = os.path.join(tmp, 'nope.safetensors')
    expect(['eval', '--checkpoint', gan, '--classifier', missing], 1,
           err_re=re.escape('no classifier at ' + missing) + r'.*clgan train-classifier --dataset fashion-mnist',
           what='a missing named classifier')
    cases = [
        ('mnist.safetensors', classifier_meta(dataset='mnist'), r'trained on mnist at 28x28.*generator makes fashion-mnist'),
        ('size32.safetensors', classifier_meta(image_size='32'), r'at 32x32 with 1 channel.*at 28x28 with 1 channel'),
        ('rgb.safetensors', classifier_meta(channels='3'), r'28x28 with 3 channel.*28x28 with 1 channel'),
        ('badsize.safetensors', classifier_meta(image_size='abc'), r'image_size is abc, expected an integer'),
        ('badacc.safetensors', classifier_meta(test_accuracy='1.5'), r'test_accuracy is 1.5'),
        ('foreign.safetensors', classifier_meta(format='clgan-checkpoint'),
         r'format is clgan-checkpoint version 1, expected clgan-classifier'),
        ('newer.safetensors', classifier_meta(format_version='2'), r'version 2, expected clgan-classifier version 1'),
        ('empty.safetensors', classifier_meta(), r'no tensor named "c\.conv1\.weight"'),
    ]
    for name, meta, pattern in cases:
        path = os.path.join(tmp, name)
        write_meta_only(path, meta)
        expect(['eval', '--checkpoint', gan, '--classifier', path], 1, err_re=re.escape(path) + r'.*' + pattern,
               what='classifier %s refused: %s' % (name, pattern))
    # idx is a generic loader: a named classifier trained through it is taken (with a warning) and gets as far as
    # its tensors; its shape must still match
    path = os.path.join(tmp, 'idx.safetensors')
    write_meta_only(path, classifier_meta(dataset='idx'))
    expect(['eval', '--checkpoint', gan, '--classifier', path], 1,
           err_re=r'warning: classifier .*trained on idx data and the generator on fashion-mnist data.*'
                  r'no tensor named "c\.conv1\.weight"',
           what='a named classifier trained on idx data is taken for fashion-mnist images')
    write_meta_only(path, classifier_meta(dataset='idx', image_size='32'))
    expect(['eval', '--checkpoint', gan, '--classifier', path], 1, err_re=r'trained on idx at 32x32',
           what='an idx classifier of another size is refused')
    garbage = os.path.join(tmp, 'garbage.safetensors')
    with open(garbage, 'wb') as f:
        f.write(b'\xff' * 64)
    expect(['eval', '--checkpoint', gan, '--classifier', garbage], 1,
           err_re=r'classifier is unusable: .*' + re.escape(garbage), what='a corrupt classifier file')
    truncated = os.path.join(tmp, 'truncated.safetensors')
    write_meta_only(truncated, classifier_meta())
    with open(truncated, 'r+b') as f:
        f.truncate(os.path.getsize(truncated) - 5)
    expect(['eval', '--checkpoint', gan, '--classifier', truncated], 1,
           err_re=r'classifier is unusable: .*' + re.escape(truncated), what='a truncated classifier file')
    ckpt = os.path.realpath(os.path.join(gan, 'latest'))
    expect(['eval', '--checkpoint', gan, '--classifier', ckpt], 1,
           err_re=r'format is clgan-checkpoint version 1, expected clgan-classifier',
           what='a GAN checkpoint given as the classifier')
    expect(['train-classifier'], 2, err_re=r'--dataset D is required', what='train-classifier without --dataset')
    expect(['train-classifier', '--dataset', 'ring8'], 2, err_re=r'2-D data', what='train-classifier on 2-D data')
    expect(['train-classifier', '--dataset', 'fashion-mnist', '--channels', '2'], 2, err_re=r'--channels 2',
           what='train-classifier --channels 2')
    return 0


def main():
    parts = {'toy': part_toy, 'classifier': part_classifier, 'image': part_image, 'errors': part_errors,
             'inception': part_inception, 'during_training': part_during_training}
    if len(sys.argv) != 2 or sys.argv[1] not in parts:
        print('usage: test_eval_cli.py %s' % '|'.join(parts))
        return 2
    tmp = tempfile.mkdtemp(prefix='clgan-eval-')
    os.environ['CLGAN_CACHE_DIR'] = os.environ.get('CLGAN_CACHE_DIR') or os.path.join(tmp, 'cache')
    # never read or write the user's classifiers
    os.environ['XDG_DATA_HOME'] = os.path.join(tmp, 'xdg-default')
    try:
        rc = parts[sys.argv[1]](tmp) or 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
