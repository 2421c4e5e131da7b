"""What the command-line tests share: run the clgan binary ($CLGAN_BIN) and
print 'ok' or 'FAIL' per check, collecting the failures.

A crash never passes: expect() names the exact exit status, and a sanitizer
report (its process exits with status 1 too) fails any expectation.

Also, with the standard library only, the files the tests make or check: PNG
(png_write, png_read, png_size, grid_size), safetensors (st_read, st_write)
and a tiny labelled idx data set (write_tiny_idx). The Python tests are the
only code that runs the binary; the C tests call the library."""
import json
import os
import re
import struct
import subprocess
import sys
import zlib

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


def has(*texts):
    """A regex (for expect's out_re / err_re) that matches a text holding every one of texts, as
    literal strings in any order; None (no condition) when texts is empty."""
    if not texts:
        return None
    return ''.join('(?=.*?%s)' % re.escape(t) for t in texts)


# ---- the files clgan reads and writes, with the stdlib only ----
# PNG: 8-bit, non-interlaced, colour types gray (0), gray+alpha (4), RGB (2), RGBA (6).
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
PNG_CHANNELS = {0: 1, 4: 2, 2: 3, 6: 4}


def _png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)


def png_write(path, pixels, width, height, channels=1):
    """Writes pixels (bytes, row-major, channels interleaved: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA)
    as an 8-bit PNG, every row with filter 0 (none)."""
    pixels = bytes(pixels)
    color = {v: k for k, v in PNG_CHANNELS.items()}[channels]
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError('png_write: %d bytes for %dx%dx%d' % (len(pixels), width, height, channels))
    raw = b''.join(b'\x00' + pixels[y * stride:(y + 1) * stride] for y in range(height))
    with open(path, 'wb') as f:
        f.write(PNG_SIGNATURE + _png_chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, color, 0, 0, 0)) +
                _png_chunk(b'IDAT', zlib.compress(raw)) + _png_chunk(b'IEND', b''))


def png_read(path):
    """Decodes an 8-bit non-interlaced PNG: returns (width, height, channels, pixels), pixels as bytes
    (row-major, channels interleaved). Raises ValueError when the file is not such a PNG (bad
    signature, chunk CRC, IHDR, filter or data length)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != PNG_SIGNATURE:
        raise ValueError('%s: not a PNG (signature)' % path)
    at, idat, ihdr = 8, [], None
    while True:
        if at + 8 > len(data):
            raise ValueError('%s: ends without IEND' % path)
        n, kind = struct.unpack('>I4s', data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        if len(body) != n or at + 12 + n > len(data):
            raise ValueError('%s: chunk %r cut off' % (path, kind))
        if struct.unpack('>I', data[at + 8 + n:at + 12 + n])[0] != zlib.crc32(kind + body) & 0xffffffff:
            raise ValueError('%s: chunk %r: bad CRC' % (path, kind))
        at += 12 + n
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
    if ihdr is None:
        raise ValueError('%s: no IHDR' % path)
    width, height, depth, color, _, _, interlace = ihdr
    if depth != 8 or color not in PNG_CHANNELS or interlace != 0 or width < 1 or height < 1:
        raise ValueError('%s: IHDR %r (expected 8-bit, non-interlaced, gray/RGB[A])' % (path, ihdr))
    ch = PNG_CHANNELS[color]
    stride = width * ch
    raw = zlib.decompress(b''.join(idat))
    if len(raw) != (stride + 1) * height:
        raise ValueError('%s: %d bytes of image data, expected %d' % (path, len(raw), (stride + 1) * height))
    out, prev = bytearray(), bytearray(stride)
    for y in range(height):
        ft, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if ft == 0:
                pred = 0
            elif ft == 1:
                pred = a
            elif ft == 2:
                pred = b
            elif ft == 3:
                pred = (a + b) // 2
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            else:
                raise ValueError('%s: row %d: filter type %d' % (path, y, ft))
            row[i] = (row[i] + pred) & 0xff
        out += row
        prev = row
    return width, height, ch, bytes(out)


def png_size(path):
    """(width, height) of a PNG that decodes (png_read), else (-1, -1)."""
    try:
        w, h, _, _ = png_read(path)
        return w, h
    except (OSError, ValueError, struct.error, zlib.error):
        return -1, -1


def grid_size(n, side, cols, pad=2):
    """The size of clgan's image grid (src/io/png.c clgan_png_grid_size): n images of side x side in
    cols columns (at most n), pad pixels around each."""
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    return cols * side + (cols + 1) * pad, rows * side + (rows + 1) * pad


# safetensors: an 8-byte little-endian header length, a JSON header (tensors with dtype, shape and
# data_offsets into the data that follows; optional "__metadata__", an object of strings), the data.
def st_read(path):
    """Returns (tensors, metadata): tensors an ordered dict name -> {'dtype', 'shape', 'data'} in
    the header's order (data: the tensor's bytes), metadata the __metadata__ dict ({} if none)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop('__metadata__', {})
    tensors = {}
    for name, t in header.items():
        b, e = t['data_offsets']
        tensors[name] = {'dtype': t['dtype'], 'shape': list(t['shape']), 'data': data[b:e]}
    return tensors, meta


def st_write(path, tensors, metadata=None):
    """Writes tensors (a dict name -> {'dtype', 'shape', 'data'}, laid out in its order, end to end)
    and metadata (a dict of strings) as a safetensors file, the header padded with spaces to 8 bytes."""
    header, blobs, at = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        header[name] = {'dtype': t['dtype'], 'shape': list(t['shape']), 'data_offsets': [at, at + len(t['data'])]}
        blobs.append(t['data'])
        at += len(t['data'])
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def write_tiny_idx(directory, n):
    """A small labelled idx data set, directory/tiny-{images-idx3,labels-idx1}-ubyte: n 28x28 images,
    image i of class i % 10 (a bright bar whose place depends on the class, over a faint
    deterministic texture), so the run tests never depend on downloaded data. Returns the images path."""
    images = os.path.join(directory, 'tiny-images-idx3-ubyte')
    px = bytearray()
    for i in range(n):
        c = i % 10
        for r in range(28):
            for q in range(28):
                px.append(250 if 2 + 2 * c <= r < 5 + 2 * c and 3 < q < 24 else (r * 7 + q * 13 + i * 31) % 40)
    with open(images, 'wb') as f:
        f.write(struct.pack('>IIII', 0x803, n, 28, 28) + bytes(px))
    with open(os.path.join(directory, 'tiny-labels-idx1-ubyte'), 'wb') as f:
        f.write(struct.pack('>II', 0x801, n) + bytes(i % 10 for i in range(n)))
    return images


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
