#!/usr/bin/env python3
"""Hostile files and absurd configurations (suite 'hostile').

    test_hostile.py config   sizes too large to allocate, on the command line and in a checkpoint's configuration
    test_hostile.py alloc    a tiny checkpoint asking for a huge model; gzip idx and CIFAR-10 files that
                             decompress to gigabytes
    test_hostile.py fifo     a FIFO where a file is expected: checkpoint, data, program binary, kernel-cache
                             entry (rebuilt with a warning), an image in a folder, a data_path in a checkpoint
    test_hostile.py numbers  numbers finite as a double but not as a float, and NaN, in a configuration and
                             on the command line
    test_hostile.py escape   control bytes in tensor names and configuration strings reach stderr escaped
    test_hostile.py png      a PNG whose text chunk decompresses to hundreds of MB, or claims 1.9 GB
    test_hostile.py sizes    the DCGAN image-size message does not claim a size that is refused

Every command runs on a file the test makes, under cli_check.expect_bounded: it
must end within 60 s (else 'hung'), peak at no more than 1.5 GiB of resident
memory (os.wait4's ru_maxrss; less where a check says so), leave no sanitizer
report and, where it fails, fail with exactly one error line that names the
file (and the field or offset where that is the point). Prints ok/FAIL per
check; exits 1 if any failed, 77 if a part had nothing it could check."""
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import zlib

from cli_check import RSS_LIMIT_KIB, SANITIZER_RE, check, expect_bounded, failures, printable, run, run_bounded

FASHION = '/usr/share/datasets/fashion-mnist'
SKIP = 77
MIB = 1024


# ---------------------------------------------------------------------------
# files the checks are made of
# ---------------------------------------------------------------------------
def st_read(path):
    """A safetensors file as (header dict, the data after the header)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        return header, f.read()


def st_write(path, header, data=b''):
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)


def rewrite_config(src, dst, edit):
    """Copy checkpoint src to dst with edit(config dict) applied to its __metadata__.config."""
    header, data = st_read(src)
    config = json.loads(header['__metadata__']['config'])
    edit(config)
    header['__metadata__']['config'] = json.dumps(config)
    st_write(dst, header, data)


def clone_run(run_dir, dst, edit):
    """A copy of run folder run_dir at dst whose latest checkpoint's configuration (and
    config.json) has edit applied. Returns dst."""
    latest = os.path.realpath(os.path.join(run_dir, 'latest'))
    name = os.path.basename(latest)
    os.makedirs(os.path.join(dst, 'checkpoints'))
    rewrite_config(latest, os.path.join(dst, 'checkpoints', name), edit)
    os.symlink('checkpoints/' + name, os.path.join(dst, 'latest'))
    with open(os.path.join(run_dir, 'config.json')) as f:
        config = json.load(f)
    edit(config)
    with open(os.path.join(dst, 'config.json'), 'w') as f:
        json.dump(config, f)
    return dst


def idx_images(path, n, rows=28, cols=28):
    with open(path, 'wb') as f:
        f.write(struct.pack('>IIII', 0x803, n, rows, cols))
        f.write(bytes((i * 37 + k) % 256 for i in range(n) for k in range(rows * cols)))


def must_train(args, what):
    r = run_bounded('train', *args, '--device', 'ref', '--quiet', timeout=120)
    if r.code != 0:
        print('FAIL %s (needed by what follows)\n%s' % (what, r.describe()))
        sys.exit(1)


def toy_run(tmp):
    d = os.path.join(tmp, 'toy-run')
    if not os.path.exists(d):
        must_train(['--model', 'toy', '--dataset', 'ring8', '--steps', '2', '--checkpoint-every', '1',
                    '--sample-every', '0', '--out', d], 'a toy run to edit')
    return d


def mlp_run(tmp):
    """A tiny MLP run (widths 8,8, 28x28 gray): on Fashion-MNIST where it is installed,
    else on an idx file of 64 images made here."""
    d = os.path.join(tmp, 'mlp-run')
    if not os.path.exists(d):
        if os.path.exists(os.path.join(FASHION, 'train-images-idx3-ubyte.gz')):
            data = ['--dataset', 'fashion-mnist']
        else:
            images = os.path.join(tmp, 'tiny-images-idx3-ubyte')
            idx_images(images, 64)
            data = ['--dataset', 'idx', '--data', images]
        must_train(['--model', 'mlp', *data, '--widths', '8,8', '--batch-size', '16', '--steps', '1',
                    '--checkpoint-every', '1', '--sample-every', '0', '--out', d], 'a tiny MLP run to edit')
    return d


def latest(run_dir):
    return os.path.realpath(os.path.join(run_dir, 'latest'))


def png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)


def png_gray(side, before_idat=()):
    """A valid side x side 8-bit gray PNG with the chunks before_idat between IHDR and IDAT."""
    raw = b''.join(b'\x00' + bytes((x * 9 + y * 5) % 256 for x in range(side)) for y in range(side))
    return (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', struct.pack('>IIBBBBB', side, side, 8, 0, 0, 0, 0)) +
            b''.join(before_idat) + png_chunk(b'IDAT', zlib.compress(raw)) + png_chunk(b'IEND', b''))


def deflate_zeros(n, wbits, chunk=1 << 20):
    """n zero bytes compressed (zlib wbits: 15 zlib, 31 gzip, -15 raw), streamed so the
    test itself never holds them."""
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(chunk)
    parts = []
    left = n
    while left:
        k = min(left, chunk)
        parts.append(c.compress(block if k == chunk else bytes(k)))
        left -= k
    parts.append(c.flush())
    return b''.join(parts)


def gzip_file(path, prefix, zero_member, members):
    """A gzip file of concatenated members: prefix (compressed here), then zero_member
    (an already compressed gzip member of zeros) members times."""
    with open(path, 'wb') as f:
        if prefix:
            c = zlib.compressobj(9, zlib.DEFLATED, 31)
            f.write(c.compress(prefix) + c.flush())
        for _ in range(members):
            f.write(zero_member)


def mkfifo(path):
    os.mkfifo(path)
    return path


def has_opencl():
    code, out, _ = run('devices')
    return code == 0 and re.search(r'^[* ] \d+:\d+ ', out, re.M) is not None


NOT_REGULAR = r'(?:not|expected) a regular file'
SAMPLE = ['--device', 'ref']


# ---------------------------------------------------------------------------
# config: sizes nothing could allocate. Fails on a crash, a hang, an
# allocation past the bound, or a message that does not say what is too large
# (the option or field, or its value) and, for a checkpoint, which file.
# ---------------------------------------------------------------------------
def part_config(tmp):
    expect_bounded(['train', '--model', 'toy', '--dataset', 'ring8', '--batch-size', '65536', '--z-dim', '65536',
                    '--steps', '1', '--device', 'ref', '--out', os.path.join(tmp, 'huge')], rc=(1, 2),
                   err_re=r'batch|z.dim|65536',
                   what='train --batch-size 65536 --z-dim 65536: refused, naming the size that is too large')

    toy, mlp = toy_run(tmp), mlp_run(tmp)
    cases = [
        ('MLP image_size 4096', mlp, lambda c: c['model'].update(image_size=4096), r'image.size|4096'),
        ('MLP widths [65536, 65536]', mlp, lambda c: c['model'].update(widths=[65536, 65536]), r'widths|65536'),
        ('toy batch_size 1048576', toy, lambda c: c.update(batch_size=1048576), r'batch.size|1048576'),
    ]
    # what is too large may be named as the field, its value, or what it makes (a parameter's
    # elements, the memory it needs)
    size_words = r'|(?i:elements|MiB|GiB|too large|more than|at most)'
    for i, (what, run_dir, edit, field) in enumerate(cases):
        bad = os.path.join(tmp, 'config-%d.safetensors' % i)
        rewrite_config(latest(run_dir), bad, edit)
        expect_bounded(['sample', '--checkpoint', bad, *SAMPLE, '--out', os.path.join(tmp, 'x.png')], rc=1,
                       names=[bad], err_re=field + size_words, max_seconds=10,
                       what='sample on a checkpoint whose configuration asks for %s: refused quickly, naming '
                            'the file and what is too large' % what)


# ---------------------------------------------------------------------------
# alloc: small files that ask for a lot. Fails when the reader allocates what
# the file claims (or what it decompresses to) before checking it.
# ---------------------------------------------------------------------------
def part_alloc(tmp):
    header, _ = st_read(latest(mlp_run(tmp)))
    meta = dict(header['__metadata__'])
    config = json.loads(meta['config'])
    config['model']['widths'] = [23170, 23170, 23170]
    meta['config'] = json.dumps(config)
    empty = os.path.join(tmp, 'no-tensors.safetensors')
    st_write(empty, {'__metadata__': meta})
    check(os.path.getsize(empty) < 2048, 'the checkpoint without tensors is small (%d bytes)' % os.path.getsize(empty))
    expect_bounded(['sample', '--checkpoint', empty, *SAMPLE, '--out', os.path.join(tmp, 'x.png')], rc=1,
                   names=[empty], err_re=r'(?i)missing|mismatch|no tensor|not in', max_seconds=5,
                   max_rss_kib=300 * MIB,
                   what='sample on a 1 KB checkpoint without tensors asking for widths 23170 x 3: refused in '
                        '< 5 s within 300 MiB, naming the file and the missing tensors')

    # gzip idx files whose streams really decompress to ~2 GB: a header promising 60000 x 28 x 28
    # (47 MB, the rest is trailing data) and one promising 31744 x 256 x 256 (1.9 GiB)
    member = deflate_zeros(64 << 20, 31)  # 64 MiB of zeros as one gzip member (~65 KB)
    mlp_args = ['--model', 'mlp', '--widths', '8,8', '--batch-size', '16', '--steps', '1', '--device', 'ref',
                '--sample-every', '0']
    for what, dims in (('60000 x 28 x 28', (60000, 28, 28)), ('31744 x 256 x 256 (1.9 GiB)', (31744, 256, 256))):
        bomb = os.path.join(tmp, 'bomb-%d-images-idx3-ubyte.gz' % dims[0])
        gzip_file(bomb, struct.pack('>IIII', 0x803, *dims), member, 31)  # 31 x 64 MiB = 1.94 GiB of zeros
        check(os.path.getsize(bomb) < 4 << 20, 'the idx bomb is small (%d bytes)' % os.path.getsize(bomb))
        expect_bounded(['train', '--dataset', 'idx', '--data', bomb, *mlp_args, '--out', os.path.join(tmp, 'r')],
                       rc=1, names=[bomb], max_seconds=30,
                       what='a gzip idx file (header %s) decompressing to 1.9 GiB: refused naming the file, '
                            'without decompressing it all' % what)

    # CIFAR-10: data_batch_1.bin a gzip stream of 327680 valid (all-zero) records, ~1 GB; the others small
    cifar = os.path.join(tmp, 'cifar-bomb')
    os.mkdir(cifar)
    record = 1 + 3 * 32 * 32
    member = deflate_zeros(record * 16384, 31)  # 16384 records of label 0, black
    batch1 = os.path.join(cifar, 'data_batch_1.bin')
    gzip_file(batch1, b'', member, 20)
    for i in range(2, 6):
        with open(os.path.join(cifar, 'data_batch_%d.bin' % i), 'wb') as f:
            f.write(bytes(record * 16))
    shutil.copy(os.path.join(cifar, 'data_batch_2.bin'), os.path.join(cifar, 'test_batch.bin'))
    expect_bounded(['train', '--dataset', 'cifar10', '--data', cifar, *mlp_args, '--out', os.path.join(tmp, 'r')],
                   rc=1, names=[batch1], max_seconds=30,
                   what='a CIFAR-10 data_batch_1.bin that is gzip of ~1 GB of records: refused naming the file, '
                        'without decompressing it all')


# ---------------------------------------------------------------------------
# fifo: a FIFO where a file is expected. Opening one for reading blocks until
# a writer comes, so a reader that does not check hangs; each must be refused
# quickly, naming the path. A FIFO in the kernel cache is not the user's
# input: the run rebuilds the program, with a warning, and succeeds.
# ---------------------------------------------------------------------------
def part_fifo(tmp):
    out = os.path.join(tmp, 'x.png')
    fifo = mkfifo(os.path.join(tmp, 'checkpoint.safetensors'))
    expect_bounded(['sample', '--checkpoint', fifo, *SAMPLE, '--out', out], rc=1, names=[fifo], err_re=NOT_REGULAR,
                   max_seconds=10, what='sample --checkpoint FIFO: refused, not a regular file')
    fifo = mkfifo(os.path.join(tmp, 'fifo-images-idx3-ubyte'))
    expect_bounded(['train', '--dataset', 'idx', '--data', fifo, '--model', 'mlp', '--widths', '8,8', '--steps', '1',
                    '--device', 'ref', '--out', os.path.join(tmp, 'r')], rc=1, names=[fifo], err_re=NOT_REGULAR,
                   max_seconds=10, what='train --dataset idx --data FIFO: refused, not a regular file')

    # the tiny MLP: an image folder with a FIFO among its PNGs, and a run whose data_path is a FIFO
    mlp = mlp_run(tmp)
    folder = os.path.join(tmp, 'images')
    os.mkdir(folder)
    with open(os.path.join(folder, 'a.png'), 'wb') as f:
        f.write(png_gray(28))
    fifo = mkfifo(os.path.join(folder, 'x.png'))
    # as the data-set folder loader does: the FIFO is skipped with a warning naming it, the real PNG is used
    r = expect_bounded(['inpaint', '--checkpoint', latest(mlp), '--image', folder, '--mask', 'center', '--iters', '2',
                        '--restarts', '1', '--device', 'ref', '--out', os.path.join(tmp, 'filled')], rc=0,
                       max_seconds=10, what='inpaint --image FOLDER holding a FIFO x.png: runs on the real PNG')
    check(re.search(r'warning: .*' + re.escape(fifo) + r'.*skipped.*FIFO.*not a regular file', r.err) is not None,
          'inpaint --image FOLDER holding a FIFO x.png: a warning names it as skipped, not a regular file', r.err)
    only = os.path.join(tmp, 'only-fifo')
    os.mkdir(only)
    fifo = mkfifo(os.path.join(only, 'x.png'))
    expect_bounded(['inpaint', '--checkpoint', latest(mlp), '--image', only, '--mask', 'center', '--iters', '2',
                    '--restarts', '1', '--device', 'ref', '--out', os.path.join(tmp, 'filled')], rc=1,
                   names=[only], max_seconds=10,
                   what='inpaint --image FOLDER whose only x.png is a FIFO: refused, naming the folder')
    data_fifo = mkfifo(os.path.join(tmp, 'data-fifo-images-idx3-ubyte'))

    def to_fifo(c):
        c['dataset'] = 'idx'
        c['data_path'] = data_fifo
        c['steps'] = 3
    resumed = clone_run(mlp, os.path.join(tmp, 'fifo-data-run'), to_fifo)
    expect_bounded(['train', '--resume', resumed, '--steps', '3', '--device', 'ref'], rc=1, names=[data_fifo],
                   err_re=NOT_REGULAR, max_seconds=10,
                   what='train --resume on a run whose data_path is a FIFO: refused, not a regular file')

    if not has_opencl():
        print('skip --kernel-binary FIFO and the kernel-cache FIFOs: no OpenCL device')
        return
    fifo = mkfifo(os.path.join(tmp, 'program.bin'))
    expect_bounded(['kernels', '--kernel-binary', fifo], rc=1, names=[fifo], err_re=NOT_REGULAR, max_seconds=20,
                   what='kernels --kernel-binary FIFO: refused, not a regular file')

    # a warmed cache, then every entry replaced by a FIFO: the run must rebuild each, warn, and succeed
    cache = os.path.join(tmp, 'kernel-cache')
    r = run_bounded('kernels', env={'CLGAN_CACHE_DIR': cache}, timeout=300)
    entries = sorted(n for n in os.listdir(cache) if n.endswith('.bin')) if os.path.isdir(cache) else []
    if not check(r.code == 0 and entries, 'kernels fills a fresh kernel cache', r.describe()):
        return
    for n in entries:
        os.unlink(os.path.join(cache, n))
        os.mkfifo(os.path.join(cache, n))
    r = expect_bounded(['kernels'], rc=0, env={'CLGAN_CACHE_DIR': cache}, timeout=300,
                       what='kernels with every cache entry a FIFO: rebuilds and succeeds')
    warned = [l for l in r.err.splitlines() if l.startswith('clgan: warning:') and 'kernel cache entry' in l]
    unnamed = [n for n in entries if not any(os.path.join(cache, n) in l and re.search(NOT_REGULAR, l)
                                             for l in warned)]
    check(not unnamed, 'each FIFO cache entry gets a warning naming it, not a regular file (%d warnings for %d '
          'entries)' % (len(warned), len(entries)), r.describe())
    check(all(os.path.isfile(os.path.join(cache, n)) for n in os.listdir(cache) if n.endswith('.bin')),
          'the rebuilt cache entries are regular files again')


# ---------------------------------------------------------------------------
# numbers: 1e39 is a finite double and an infinite float; a configuration or
# option taking it as a float trains with infinite rates. Fails unless each is
# refused naming the field or option.
# ---------------------------------------------------------------------------
def part_numbers(tmp):
    toy = toy_run(tmp)
    edits = [
        ('opt_g.lr', lambda c: c['opt_g'].update(lr=1e39)),
        ('opt_d.lr', lambda c: c['opt_d'].update(lr=1e39)),
        ('gp_lambda', lambda c: c.update(gp_lambda=1e39, loss='wgan-gp')),
    ]
    for field, edit in edits:
        d = clone_run(toy, os.path.join(tmp, 'run-' + field), edit)
        expect_bounded(['train', '--resume', d, '--steps', '4', '--device', 'ref'], rc=1,
                       names=[field], err_re=r'(?i)finite|float|range|too large|1e\+?39',
                       what='train --resume with %s = 1e39 in the checkpoint: refused naming %s' % (field, field))
    toy_args = ['--model', 'toy', '--dataset', 'ring8', '--steps', '1', '--device', 'ref', '--sample-every', '0']
    for value in ('1e39', 'nan', 'inf', '-1e39'):
        expect_bounded(['train', *toy_args, '--lr', value, '--out', os.path.join(tmp, 'lr-' + value)], rc=(1, 2),
                       names=['--lr'], what='train --lr %s: refused naming --lr' % value)
    expect_bounded(['train', *toy_args, '--loss', 'wgan-gp', '--gp-lambda', '1e39', '--out',
                    os.path.join(tmp, 'gp')], rc=(1, 2), names=['--gp-lambda'],
                   what='train --gp-lambda 1e39: refused naming --gp-lambda')


# ---------------------------------------------------------------------------
# escape: names and strings from a file reach the terminal; raw ESC/CSI bytes
# there can recolour, retitle or rewrite it. Fails when stderr carries any
# control byte other than a newline, or does not show the escape as \x1b.
# ---------------------------------------------------------------------------
ESC_NAME = '\x1b[31mred\x1b[0m\u009bX'
ESC_STRING = '\x1b]0;title\x07'


def check_clean(r, what):
    raw = r.err_bytes
    bad = sorted({b for b in raw if (b < 0x20 and b != 0x0a) or b in (0x1b, 0x7f, 0x9b)})
    check(not bad, what + ': stderr holds no control bytes', 'bytes %s in %r' % (bad, raw[-2000:]))
    check(b'\\x1b' in raw, what + ': stderr shows the escape as \\x1b', repr(raw[-2000:]))
    check(not r.hung and r.rss_kib <= RSS_LIMIT_KIB and not SANITIZER_RE.search(r.err),
          what + ': no hang, no sanitizer report', r.describe())


def part_escape(tmp):
    mlp = mlp_run(tmp)
    header, data = st_read(latest(mlp))
    # a tensor named with SGR sequences and a C1 CSI whose data lies past the end of the file:
    # the reader must report it, by name
    header[ESC_NAME] = {'dtype': 'F32', 'shape': [4], 'data_offsets': [len(data), len(data) + 16]}
    bad = os.path.join(tmp, 'escape-name.safetensors')
    st_write(bad, header, data)
    r = run_bounded('sample', '--checkpoint', bad, *SAMPLE, '--out', os.path.join(tmp, 'x.png'))
    check_clean(r, 'sample on a checkpoint with a tensor named with ESC and CSI bytes, its data past the end')
    check(r.code == 1 and bad in r.err, 'and the checkpoint is refused, naming the file', r.describe())

    # the same name where the model expects a tensor, so it is the one reported missing / unexpected
    header, data = st_read(latest(mlp))
    header[ESC_NAME] = header.pop('g.fc1.weight')
    bad = os.path.join(tmp, 'escape-renamed.safetensors')
    st_write(bad, header, data)
    r = run_bounded('sample', '--checkpoint', bad, *SAMPLE, '--out', os.path.join(tmp, 'x.png'))
    if r.code == 1 and 'g.fc1.weight' in r.err and 'red' not in r.err:
        print('     (the message names the missing tensor only; the ESC name is not shown)')
        check(not [b for b in r.err_bytes if (b < 0x20 and b != 0x0a) or b in (0x1b, 0x9b)],
              'sample on a checkpoint missing g.fc1.weight with an ESC-named tensor: stderr clean')
    else:
        check_clean(r, 'sample on a checkpoint whose g.fc1.weight is renamed with ESC bytes')

    # a configuration string: the run's data set, printed when the run is resumed and refused
    def hostile_dataset(c):
        c['dataset'] = ESC_STRING
        c['steps'] = 3
    d = clone_run(mlp, os.path.join(tmp, 'escape-run'), hostile_dataset)
    r = run_bounded('train', '--resume', d, '--steps', '3', '--device', 'ref')
    check_clean(r, 'train --resume on a run whose data set is "\\x1b]0;title\\x07"')
    check(r.code == 1, 'and the unknown data set is refused', r.describe())

    # the same string as the data path of an idx run, which every loader error names
    def hostile_path(c):
        c['dataset'] = 'idx'
        c['data_path'] = os.path.join(tmp, ESC_STRING + '-images-idx3-ubyte')
        c['steps'] = 3
    d = clone_run(mlp, os.path.join(tmp, 'escape-path-run'), hostile_path)
    r = run_bounded('train', '--resume', d, '--steps', '3', '--device', 'ref')
    check_clean(r, 'train --resume on a run whose data_path holds "\\x1b]0;title\\x07"')


# ---------------------------------------------------------------------------
# png: ancillary text chunks are not pixels; a reader that inflates them
# whole, or believes a length field, allocates what the file claims. Fails on
# an allocation past the bound, a hang, or a failure that does not name the
# file; success (the chunk skipped) and a clear refusal both pass.
# ---------------------------------------------------------------------------
def part_png(tmp):
    mlp = mlp_run(tmp)
    zeros = deflate_zeros(256 << 20, 15)  # 256 MiB of zeros, zlib format, ~250 KB
    check(len(zeros) < 400 * 1024, 'the text bomb is a few hundred KB (%d bytes)' % len(zeros))
    bombs = {
        'ztxt': png_gray(28, [png_chunk(b'zTXt', b'Comment\x00\x00' + zeros)]),
        'itxt': png_gray(28, [png_chunk(b'iTXt', b'Comment\x00\x01\x00\x00\x00' + zeros)]),
    }
    # a 1x1 PNG whose tEXt length field claims 1.9 GB and whose file ends a few bytes later
    one = png_gray(1)
    ihdr_end = 8 + 25
    bombs['text-length'] = one[:ihdr_end] + struct.pack('>I', 1900000000) + b'tEXtComment\x00short'
    check(len(one) < 200, 'the plain 1x1 PNG is small (%d bytes)' % len(one))
    inpaint = ['inpaint', '--checkpoint', latest(mlp), '--iters', '2', '--restarts', '1', '--device', 'ref']
    plain = os.path.join(tmp, 'plain.png')
    with open(plain, 'wb') as f:
        f.write(png_gray(28))
    for name, blob in bombs.items():
        path = os.path.join(tmp, name + '.png')
        with open(path, 'wb') as f:
            f.write(blob)
        expect_bounded([*inpaint, '--image', path, '--mask', 'center', '--out', os.path.join(tmp, 'o.png')],
                       rc=(0, 1), names=[path],
                       what='inpaint --image %s.png (%d bytes): bounded, and a refusal names the file'
                            % (name, len(blob)))
        expect_bounded([*inpaint, '--image', plain, '--mask', path, '--out', os.path.join(tmp, 'o.png')],
                       rc=(0, 1), names=[path],
                       what='inpaint --mask %s.png: bounded, and a refusal names the file' % name)


# ---------------------------------------------------------------------------
# sizes: the DCGAN image-size message. Fails when it claims a size it refuses.
# ---------------------------------------------------------------------------
def accepted_range(line):
    m = re.search(r'from (\d+) to (\d+)|(\d+)\s*(?:\.\.|-)\s*(\d+)', line)
    if not m:
        return None
    a, b = [int(x) for x in m.groups() if x is not None]
    return a, b


def part_sizes(tmp):
    images = os.path.join(tmp, 'sizes-images-idx3-ubyte')  # a few images: sizes, not the data, are the test
    idx_images(images, 8)
    dcgan = ['train', '--model', 'dcgan', '--dataset', 'idx', '--data', images, '--batch-size', '4', '--steps', '1',
             '--device', 'ref', '--sample-every', '0']
    r = expect_bounded([*dcgan, '--image-size', '1000', '--out', os.path.join(tmp, 'r1000')], rc=(1, 2),
                       err_re=r'1000.*expected', what='--image-size 1000 is refused, saying what is expected')
    line = '\n'.join(r.error_lines())
    rng = accepted_range(line)
    check(rng is not None, 'the message for 1000 lists the accepted range', line)
    r = run_bounded(*dcgan, '--image-size', '1024', '--out', os.path.join(tmp, 'r1024'))
    refused = r.code == 2 or re.search(r'image size 1024', r.err)
    check(not r.hung and not SANITIZER_RE.search(r.err) and r.rss_kib <= RSS_LIMIT_KIB,
          '--image-size 1024: no hang, crash or runaway allocation', r.describe())
    if refused:
        claim = '\n'.join(r.error_lines()).replace('image size 1024:', '')
        check('1024' not in claim, '1024, refused, is not named as accepted in its own message', claim)
        rng2 = accepted_range(claim)
        check(rng2 is None or not rng2[0] <= 1024 <= rng2[1], '1024, refused, is outside the range its message gives',
              claim)
        check(rng is None or not rng[0] <= 1024 <= rng[1], '1024, refused, is outside the range the message for 1000 '
              'gives', line)
    else:
        print('     --image-size 1024 gets past configuration: %s' % printable(' '.join(r.error_lines()) or 'it ran'))


def main():
    parts = {'config': part_config, 'alloc': part_alloc, 'fifo': part_fifo, 'numbers': part_numbers,
             'escape': part_escape, 'png': part_png, 'sizes': part_sizes}
    part = sys.argv[1] if len(sys.argv) > 1 else ''
    if part not in parts:
        print('usage: test_hostile.py ' + '|'.join(parts), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix='clgan-hostile-') as tmp:
        result = parts[part](tmp)
    print('%d failed' % len(failures))
    if failures:
        return 1
    return SKIP if result == 'skip' else 0


if __name__ == '__main__':
    sys.exit(main())
