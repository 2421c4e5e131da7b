#!/usr/bin/env python3
"""Writes a copy of a source file with one planted bug, for the proofs that
a checker fails (tests/meson.build): OUT = SRC with the text OLD replaced by
NEW. OLD must occur exactly once, so a plant that no longer matches the code
stops the build instead of silently proving nothing.

usage: plant.py SRC OUT OLD NEW"""
import sys


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    src, out, old, new = sys.argv[1:]
    text = open(src).read()
    count = text.count(old)
    if count != 1:
        print('plant.py: %s holds %r %d times, expected exactly once' % (src, old, count), file=sys.stderr)
        return 1
    with open(out, 'w') as f:
        note = ('%r -> %r' % (old, new)).replace('*/', '* /')
        f.write('/* planted bug (tools/plant.py): %s */\n#line 1 "%s"\n' % (note, src))
        f.write(text.replace(old, new))
    return 0


if __name__ == '__main__':
    sys.exit(main())
