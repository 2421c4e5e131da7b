#!/usr/bin/env python3
"""The shared library exports exactly its API: every dynamic symbol that
libclgan.so defines is declared in include/clgan/*.h, and every function those
headers declare (not inline) is exported. Anything else (the ops, kernels'
launchers, SHA-256, the C++ runtime's templates) stays hidden.

usage: test_exports.py LIBCLGAN.so INCLUDE_DIR

The checker proves it can fail: the same comparison with an internal symbol
added to the library's list, and with a declared function taken out of it,
must both report a difference."""
import glob
import os
import re
import shutil
import subprocess
import sys


def declared(include_dir):
    funcs, inline = set(), set()
    for path in sorted(glob.glob(os.path.join(include_dir, 'clgan', '*.h'))):
        text = open(path).read()
        text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
        text = re.sub(r'//[^\n]*', ' ', text)
        text = re.sub(r'^\s*#.*$', ' ', text, flags=re.M)
        for m in re.finditer(r'static\s+inline[^;{]*?\b(clgan_\w+)\s*\(', text):
            inline.add(m.group(1))
        for m in re.finditer(r'\b(clgan_\w+)\s*\((?!\s*\*)', text):
            funcs.add(m.group(1))
        for m in re.finditer(r'\bextern\s+[^;()]*?\b(clgan_\w+)\s*(\[[^\]]*\])?\s*;', text):
            funcs.add(m.group(1))
        # type names (a cast or a parenthesised type can be followed by "(")
        for m in re.finditer(r'}\s*(clgan_\w+)\s*;', text):
            inline.add(m.group(1))
        for m in re.finditer(r'\btypedef\s+[^;(]*?\b(clgan_\w+)\s*;', text):
            inline.add(m.group(1))
        for m in re.finditer(r'\bstruct\s+(clgan_\w+)', text):
            inline.add(m.group(1))
    return funcs - inline


def exported(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] not in ('A',):
            syms.add(parts[2].split('@')[0])
    return syms


def compare(syms, funcs, types):
    extra = sorted(s for s in syms if s not in funcs)
    missing = sorted(f for f in funcs if f not in syms and f not in types)
    return extra, missing


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    lib, include_dir = sys.argv[1], sys.argv[2]
    if not shutil.which('nm'):
        print('nm is not installed: skipped')
        return 77
    funcs = declared(include_dir)
    # typedef'd function types (clgan_log_fn, hooks) appear as "clgan_x (" only in typedefs
    types = set()
    for path in glob.glob(os.path.join(include_dir, 'clgan', '*.h')):
        for m in re.finditer(r'typedef[^;]*\(\s*\*?\s*(clgan_\w+)\s*\)', open(path).read()):
            types.add(m.group(1))
    funcs -= types
    syms = exported(lib)
    failures = 0
    extra, missing = compare(syms, funcs, types)
    for s in extra:
        print('FAIL exported but not declared in include/clgan/: %s' % s)
    for f in missing:
        print('FAIL declared in include/clgan/ but not exported: %s' % f)
    failures += len(extra) + len(missing)
    if not extra and not missing:
        print('ok   libclgan.so exports exactly the %d symbols include/clgan/ declares' % len(syms))
    # the checker fails on planted differences
    e, _ = compare(syms | {'clgan_sha256_init'}, funcs, types)
    planted_extra = set(e) - set(extra) == {'clgan_sha256_init'}
    some = sorted(syms & funcs)[0] if syms & funcs else None
    _, m = compare(syms - {some}, funcs, types) if some else ([], [])
    planted_missing = some is not None and set(m) - set(missing) == {some}
    for ok, what in ((planted_extra, 'an internal symbol added to the list is reported'),
                     (planted_missing, 'a declared function taken out of the list is reported')):
        print('%s %s' % ('ok  ' if ok else 'FAIL', what))
        failures += not ok
    print('%d failures' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
