#!/usr/bin/env python3
"""Command-line tests of `clgan inpaint` and `clgan interpolate` (suite 'repair').

    test_repair_cli.py cli   clgan inpaint / interpolate: outputs of the right size, and bad masks, image sizes
                             and unreadable files refused with messages naming the file and what was expected;
                             the shared --checkpoint handling (required; a 2-D toy model refused for images)

Runs the real clgan binary ($CLGAN_BIN) on the ref device, on tiny MLP GANs
(8x8 gray) that clgan train makes here in a step, and PNGs the test writes.
Every check prints 'ok' or 'FAIL' with the command's output; the program exits
1 if any failed. A crash (a signal or a sanitizer abort) never passes: every
expectation names the exact exit status. (test_repair.c: slerp, the Poisson
solver, the context weights and masks, and inpainting MNIST, through the
library.)"""
import os
import shutil
import sys
import tempfile

from cli_check import check, expect, failures, has, must, png_size, png_write, write_tiny_idx

QUICK = ['--device', 'ref', '--iters', '3', '--restarts', '2', '--quiet']


def tiny_checkpoint(tmp, name, images, *extra):
    """A tiny MLP GAN (8x8 gray, z 4, one hidden layer of 16) after one step on ref: enough to
    drive the commands. Returns its checkpoint file."""
    out = os.path.join(tmp, name)
    must(['train', '--model', 'mlp', '--loss', 'ns', '--dataset', 'idx', '--data', images, '--image-size', '8',
          '--channels', '1', '--z-dim', '4', '--widths', '16', '--batch-size', '4', '--steps', '1',
          '--sample-every', '0', '--checkpoint-every', '0', '--device', 'ref', '--quiet', '--out', out, *extra],
         'train the tiny MLP GAN %s' % name)
    return os.path.join(out, 'checkpoints', 'step_00000001.safetensors')


def write_gray(path, w, h):
    png_write(path, bytes(i * 37 % 256 for i in range(w * h)), w, h, 1)


# ---------------------------------------------------------------------------
# cli: fails when a working command fails or writes an output of the wrong
# size (a grid of n images of 8x8 with 2 pixels of padding; one PNG per image
# with --out-dir), or when a bad input is accepted, crashes, exits with the
# wrong status (2 for a usage error, 1 for an input that cannot be used) or
# its message does not name the file and what was expected.
# ---------------------------------------------------------------------------
def part_cli(tmp):
    images = write_tiny_idx(tmp, 20)
    ck = tiny_checkpoint(tmp, 'tiny', images)
    ckc = tiny_checkpoint(tmp, 'tiny-cond', images, '--conditional')
    img, img2, big = (os.path.join(tmp, n) for n in ('a.png', 'b.png', 'big.png'))
    text, mask, bigmask, empty = (os.path.join(tmp, n) for n in ('notes.png', 'mask.png', 'bigmask.png', 'empty.png'))
    out, folder = os.path.join(tmp, 'out.png'), os.path.join(tmp, 'in')
    write_gray(img, 8, 8)
    write_gray(img2, 8, 8)
    write_gray(big, 9, 8)
    write_gray(bigmask, 9, 8)
    png_write(mask, bytes(255 if i % 8 == 3 else 0 for i in range(64)), 8, 8, 1)  # one column unknown
    png_write(empty, bytes(64), 8, 8, 1)
    with open(text, 'w') as f:
        f.write('not an image\n')
    os.mkdir(folder)
    shutil.copy(img, folder)
    shutil.copy(img2, folder)

    # working runs
    expect(['inpaint', '--checkpoint', ck, '--image', img, '--original', img, '--mask', 'center', '--out', out, *QUICK],
           0, out_re=has('wrote', 'PSNR on the hole', 'mean fill', 'smooth fill'))
    w, h = png_size(out)
    check((w, h) == (8, 8), 'one image: out.png is 8 x 8', 'it is %d x %d' % (w, h))
    expect(['inpaint', '--checkpoint', ck, '--image', folder, '--original', folder, '--mask', 'random', '--blend',
            'none', '--out', out, '--out-dir', os.path.join(tmp, 'each'), *QUICK], 0, out_re=has('all 2 images'))
    w, h = png_size(out)
    check((w, h) == (2 * 8 + 3 * 2, 8 + 2 * 2), 'two images: the grid is 22 x 12', 'it is %d x %d' % (w, h))
    w, h = png_size(os.path.join(tmp, 'each', 'b.png'))
    check((w, h) == (8, 8), '--out-dir: b.png is 8 x 8', 'it is %d x %d' % (w, h))
    expect(['inpaint', '--checkpoint', ckc, '--image', img + ',' + img2, '--mask', mask, '--out', out, *QUICK], 0,
           out_re=has('wrote'))
    expect(['inpaint', '--checkpoint', ckc, '--image', img, '--mask', 'left', '--labels', '2', '--out', out, *QUICK], 0,
           out_re=has('wrote'))
    expect(['interpolate', '--checkpoint', ck, '--pairs', '3', '--steps', '5', '--out', out, '--device', 'ref',
            '--quiet'], 0, out_re=has('3 pairs x 5 steps'))
    w, h = png_size(out)
    check((w, h) == (5 * 8 + 6 * 2, 3 * 8 + 4 * 2), 'interpolation grid 52 x 32', 'it is %d x %d' % (w, h))
    expect(['interpolate', '--checkpoint', ckc, '--pairs', '2', '--steps', '4', '--labels', '1,2', '--out', out,
            '--device', 'ref', '--quiet'], 0, out_re=has('2 pairs x 4 steps'))

    # refusals, each naming the file and what was expected
    expect(['inpaint', '--checkpoint', ck, '--image', big, '--out', out, *QUICK], 1,
           err_re=has(big, '9 x 8', 'expected 8 x 8'))
    expect(['inpaint', '--checkpoint', ck, '--image', img, '--mask', bigmask, '--out', out, *QUICK], 1,
           err_re=has(bigmask, '9 x 8', 'expected 8 x 8'))
    expect(['inpaint', '--checkpoint', ck, '--image', img, '--mask', text, '--out', out, *QUICK], 1,
           err_re=has(text, 'PNG'))
    expect(['inpaint', '--checkpoint', ck, '--image', text, '--out', out, *QUICK], 1, err_re=has(text, 'PNG'))
    expect(['inpaint', '--checkpoint', ck, '--image', img, '--mask', 'centre', '--out', out, *QUICK], 1,
           err_re=has('centre', 'expected center, left, random or a PNG file'))
    expect(['inpaint', '--checkpoint', ck, '--image', os.path.join(tmp, 'missing.png'), '--out', out, *QUICK], 1,
           err_re=has('missing.png'))
    expect(['inpaint', '--checkpoint', ck, '--image', img + ',' + img2, '--original', img, '--out', out, *QUICK], 1,
           err_re=has('--original', 'one original per image'))
    expect(['inpaint', '--checkpoint', ck, '--image', img, '--mask', empty, '--out', out, *QUICK], 1,
           err_re=has(empty, 'every pixel is zero (known)'))
    expect(['inpaint', '--checkpoint', os.path.join(tmp, 'nothing.safetensors'), '--image', img, '--out', out, *QUICK],
           1, err_re=has('nothing.safetensors'))
    expect(['inpaint', '--checkpoint', ck, '--image', img, '--blend', 'soft', '--out', out, *QUICK], 2,
           err_re=has('--blend', 'poisson or none'))
    expect(['interpolate', '--checkpoint', ck, '--labels', '1', '--out', out, '--device', 'ref'], 2,
           err_re=has('not conditional'))
    expect(['interpolate', '--checkpoint', ck, '--steps', '1', '--out', out, '--device', 'ref'], 2,
           err_re=has('--steps'))
    # the shared --checkpoint handling: required, and a 2-D toy model is refused where images are needed
    expect(['inpaint', '--image', img, '--out', out, *QUICK], 2,
           err_re=has('clgan inpaint: --checkpoint FILE is required'))
    expect(['interpolate', '--out', out, '--device', 'ref'], 2,
           err_re=has('clgan interpolate: --checkpoint FILE is required'))
    expect(['sample', '--out', out, '--device', 'ref'], 2, err_re=has('clgan sample: --checkpoint FILE is required'))
    toy = os.path.join(tmp, 'toy-run')
    expect(['train', '--model', 'toy', '--steps', '1', '--width', '8', '--batch-size', '8', '--sample-every', '0',
            '--out', toy, '--device', 'ref', '--quiet'], 0)
    expect(['inpaint', '--checkpoint', toy, '--image', img, '--out', out, *QUICK], 2,
           err_re=has('holds the 2-D toy model; inpainting needs an image model'))
    expect(['interpolate', '--checkpoint', toy, '--out', out, '--device', 'ref'], 2,
           err_re=has('holds the 2-D toy model; interpolation needs an image model'))


def main():
    parts = {'cli': part_cli}
    if len(sys.argv) != 2 or sys.argv[1] not in parts:
        print('usage: test_repair_cli.py ' + '|'.join(parts), file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix='clgan-repair-cli-')
    try:
        parts[sys.argv[1]](tmp)
    finally:
        if not failures:
            shutil.rmtree(tmp)
        else:
            print('left ' + tmp + ' for inspection')
    print('%d failed' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
