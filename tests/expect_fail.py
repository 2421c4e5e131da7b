#!/usr/bin/env python3
"""Proves a checker can fail: runs a test built or configured with a planted
bug and passes only if the test exits 1 *and* reports the expected check as
failed (a crash, a skip or a pass is a failure of this proof).

usage: expect_fail.py PATTERN [--kernel-edit FILE OLD NEW] -- COMMAND...
--kernel-edit copies cl/ to a temporary folder, replaces OLD with NEW in FILE
there (OLD must occur), and points CLGAN_KERNEL_DIR at it."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

args = sys.argv[1:]
pattern = args.pop(0)
edit = None
if args[0] == '--kernel-edit':
    edit = args[1:4]
    args = args[4:]
assert args.pop(0) == '--'
env = dict(os.environ)
tmp = None
if edit:
    tmp = tempfile.mkdtemp(prefix='clgan-planted-')
    shutil.copytree(os.path.join(os.environ['CLGAN_SOURCE_ROOT'], 'cl'), os.path.join(tmp, 'cl'))
    path = os.path.join(tmp, 'cl', edit[0])
    text = open(path).read()
    if edit[1] not in text:
        sys.exit('planted bug: %r not found in %s' % (edit[1], edit[0]))
    open(path, 'w').write(text.replace(edit[1], edit[2], 1))
    env['CLGAN_KERNEL_DIR'] = os.path.join(tmp, 'cl')
    env['CLGAN_CACHE_DIR'] = os.path.join(tmp, 'cache')
p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)
if tmp:
    shutil.rmtree(tmp)
out = p.stdout + p.stderr
if p.returncode == 77:
    print(out)
    sys.exit(77)
hits = [l for l in out.splitlines() if l.startswith('FAIL') and re.search(pattern, l)]
print('\n'.join(hits) or out[-3000:])
if p.returncode == 1 and hits:
    print('the planted bug was caught (%d failing checks match %r)' % (len(hits), pattern))
    sys.exit(0)
print('the planted bug was NOT caught: exit %d' % p.returncode)
sys.exit(1)
