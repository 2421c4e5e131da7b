"""What the command-line tests share: run the clgan binary ($CLGAN_BIN) and
print 'ok' or 'FAIL' per check, collecting the failures.

A crash never passes: expect() names the exact exit status, and a sanitizer
report (its process exits with status 1 too) fails any expectation."""
import os
import re
import subprocess
import sys

BIN = os.environ['CLGAN_BIN']
failures = []


def run(*args, env=None, timeout=240):
    """clgan ARGS, without the caller's CLGAN_DEVICE / CLGAN_KERNEL_DIR unless env sets them."""
    e = dict(os.environ)
    for k in ('CLGAN_DEVICE', 'CLGAN_KERNEL_DIR'):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run([BIN, *args], capture_output=True, text=True, env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check(cond, what, detail=''):
    if cond:
        print('ok   ' + what)
    else:
        print('FAIL ' + what + ('\n' + detail if detail else ''))
        failures.append(what)
    return cond


def expect(args, rc, out_re=None, err_re=None, env=None, what=None, err_not=None):
    """clgan ARGS must exit with rc; stdout must match out_re, stderr err_re and not err_not.
    Returns (exit status, stdout, stderr)."""
    code, out, err = run(*args, env=env)
    ok = code == rc and not re.search(r'Sanitizer|runtime error:', err)
    if out_re and not re.search(out_re, out, re.S):
        ok = False
    if err_re and not re.search(err_re, err, re.S):
        ok = False
    if err_not and re.search(err_not, err, re.S):
        ok = False
    check(ok, what or ' '.join(args), 'rc=%d\nstdout:\n%s\nstderr:\n%s' % (code, out, err))
    return code, out, err


def must(args, what, env=None):
    """clgan ARGS must succeed, or the test stops here (what comes next needs its result)."""
    code, out, err = run(*args, env=env)
    if code != 0:
        print('FAIL %s\nrc=%d\nstdout:\n%s\nstderr:\n%s' % (what, code, out, err))
        sys.exit(1)
    return out, err
