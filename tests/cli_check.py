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


# ---- bounded runs: time, memory and a clear one-line error ----
RSS_LIMIT_KIB = 1536 * 1024   # 1.5 GiB: no hostile input may make clgan allocate more
SANITIZER_RE = re.compile(r'Sanitizer|runtime error:')
# the line that says why a command failed: "clgan: error: ..." (a run that cannot start)
# or "clgan COMMAND: ..." (a usage error)
ERROR_LINE_RE = re.compile(r'^(?:clgan: error: |clgan [a-z-]+: )')


def printable(text):
    return re.sub(r'[\x00-\x08\x0b-\x1f\x7f-\x9f]', lambda m: '\\x%02x' % ord(m.group()), text)


class Bounded:
    """What a bounded run saw: code (None if it hung), out/err (text), err_bytes (raw),
    seconds, rss_kib (the child's peak resident set), hung."""

    def __init__(self, code, out, err_bytes, seconds, rss_kib, hung):
        self.code, self.out, self.err_bytes = code, out, err_bytes
        self.err = err_bytes.decode('utf-8', 'backslashreplace')
        self.seconds, self.rss_kib, self.hung = seconds, rss_kib, hung

    def error_lines(self):
        return [l for l in self.err.splitlines() if ERROR_LINE_RE.match(l)]

    def describe(self):
        """The run for a FAIL message, control characters shown as escapes (never sent raw to the log)."""
        return 'rc=%s%s, %.1f s, peak RSS %d MiB\nstdout:\n%s\nstderr:\n%s' % (
            self.code, ' (hung: killed)' if self.hung else '', self.seconds, self.rss_kib // 1024,
            printable(self.out[-4000:]), printable(self.err[-4000:]))


def _rss_kib(pid):
    try:
        with open('/proc/%d/statm' % pid) as f:
            return int(f.read().split()[1]) * (os.sysconf('SC_PAGE_SIZE') // 1024)
    except (OSError, ValueError, IndexError):
        return 0


def run_bounded(*args, env=None, timeout=60, rss_kill_kib=2 * RSS_LIMIT_KIB):
    """clgan ARGS with stdin closed, killed after timeout seconds (hung) or once its resident
    set passes rss_kill_kib (so a runaway allocation cannot take the machine down; the peak
    then already exceeds any bound a check sets). The peak RSS comes from os.wait4
    (ru_maxrss, KiB on Linux). Returns a Bounded."""
    import tempfile
    import time
    e = dict(os.environ)
    for k in ('CLGAN_DEVICE', 'CLGAN_KERNEL_DIR'):
        e.pop(k, None)
    e.update(env or {})
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        start = time.monotonic()
        p = subprocess.Popen([BIN, *args], stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, env=e)
        hung = killed = False
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            hung = time.monotonic() - start > timeout
            killed = rss_kill_kib is not None and _rss_kib(p.pid) > rss_kill_kib
            if hung or killed:
                p.kill()
                _, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
        fo.seek(0)
        fe.seek(0)
        out = fo.read().decode('utf-8', 'backslashreplace')
        err = fe.read()
    r = Bounded(None if hung else p.returncode, out, err, seconds, usage.ru_maxrss, hung)
    r.killed_for_memory = killed
    return r


def expect_bounded(args, rc=1, err_re=None, names=(), what=None, env=None, timeout=60, max_seconds=None,
                   max_rss_kib=RSS_LIMIT_KIB, err_not=None, one_line=True):
    """clgan ARGS must finish within timeout (else FAIL '... hung'), within max_seconds if given,
    with a peak RSS of at most max_rss_kib, no sanitizer report, and exit with rc (an int, or a
    tuple of allowed codes). When it fails (rc != 0) stderr must hold exactly one error line
    (one_line), matching err_re and containing each string of names. err_not must not match
    stderr. Returns the Bounded."""
    r = run_bounded(*args, env=env, timeout=timeout, rss_kill_kib=max_rss_kib + 256 * 1024)
    what = what or ' '.join(args)
    allowed = rc if isinstance(rc, (tuple, list, set)) else (rc,)
    why = []
    if r.hung:
        why.append('hung: still running after %d s' % timeout)
    else:
        if r.code not in allowed and not r.killed_for_memory:
            why.append('exit status %s, expected %s' % (r.code, ' or '.join(map(str, allowed))))
        if max_seconds is not None and r.seconds > max_seconds:
            why.append('took %.1f s, more than %g s' % (r.seconds, max_seconds))
    if r.rss_kib > max_rss_kib:
        why.append('peak RSS %d MiB, more than %d MiB%s' % (r.rss_kib // 1024, max_rss_kib // 1024,
                                                           ' (killed there)' if r.killed_for_memory else ''))
    if SANITIZER_RE.search(r.err):
        why.append('sanitizer report')
    if not r.hung and not r.killed_for_memory and r.code not in (0, None):
        lines = r.error_lines()
        if one_line and len(lines) != 1:
            why.append('%d error lines, expected one' % len(lines))
        line = '\n'.join(lines)
        if err_re and not re.search(err_re, line):
            why.append('the error does not match /%s/' % err_re)
        for n in names:
            if n not in line:
                why.append('the error does not name %r' % n)
    if err_not and re.search(err_not, r.err, re.S):
        why.append('stderr matches /%s/' % err_not)
    if check(not why, what, '; '.join(why) + '\n' + r.describe()) and r.code:
        for line in r.error_lines():
            print('     ' + printable(line))  # what the user saw, for the log
    return r
