#!/usr/bin/env python3
"""GEMM paths and clgan tune end to end (suite 'runtime').

tune: a tiny tune (CLBlast's own parameters only, a small model) writes a
record; clgan devices then reports the measured path, --verbose on a device
command says the parameters were applied; a corrupt, a truncated and a stale
record are each ignored with a warning naming the file, and the rule applies.
refuse: --gemm native on a device without native kernels names it (needs
such a device; else 77), a bad --gemm value is a usage error.
Exit 77 without an OpenCL device."""
import glob
import os
import subprocess
import sys
import tempfile

BIN = os.environ["CLGAN_BIN"]


def run(*args, env=None, timeout=600):
    e = dict(os.environ)
    e.pop("CLGAN_GEMM", None)
    e.update(env or {})
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=e)
    return p.returncode, p.stdout, p.stderr


def devices(cache):
    rc, out, err = run("devices", "--cache-dir", cache)
    assert rc == 0, err
    return out, err


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


def opencl_devices():
    rc, out, _ = run("devices")
    ids = [l.split()[1] if l.startswith("*") else l.split()[0] for l in out.splitlines() if l[:1] in "* " and
           l[2:3] != " " and ":" in l.split()[1 if l.startswith("*") else 0]]
    return ids, out


def part_tune():
    ids, out = opencl_devices()
    if not ids:
        print("no OpenCL device: skipped")
        sys.exit(77)
    dev = ids[0]
    with tempfile.TemporaryDirectory() as cache:
        rc, out, err = run("tune", "--device", dev, "--cache-dir", cache, "--fraction", "0", "--candidates", "0",
                           "--batch-size", "2", "--width", "4", "--runs", "1")
        if rc != 0:
            fail("clgan tune: " + err)
        print(out)
        files = glob.glob(os.path.join(cache, "gemm-*.tune"))
        if len(files) != 1:
            fail("expected one tune record, found %s" % files)
        rec = files[0]
        text = open(rec).read()
        if not text.startswith("clgan-gemm-tune 1\n") or not text.endswith("end\n") or "param Xgemm MWG " not in text:
            fail("record content: " + text[:300])
        out, err = devices(cache)
        if "measured by clgan tune" not in out or "CLBlast parameters from clgan tune" not in out:
            fail("devices does not report the tune record:\n" + out)
        # a device command applies it and says so under --verbose
        rc, out2, err2 = run("kernels", "--device", dev, "--cache-dir", cache, "--verbose")
        if rc != 0 or "CLBlast GEMM parameters from " + rec + " applied" not in err2:
            fail("kernels --verbose does not say the parameters were applied:\n" + err2)
        good = text
        bad = {
            "corrupt": good.replace("param Xgemm MWG ", "param Xgemm MWG x"),
            "truncated": good[: len(good) // 2],
            "stale": good.replace("key " + good.split("key ")[1][:8], "key 00000000", 1),
            "hostile": good.replace("path ", "\x1b[31mpath ", 1),
        }
        want = {"corrupt": "is corrupt at line", "truncated": "truncated", "stale": "is stale",
                "hostile": "is corrupt at line"}
        for name, content in bad.items():
            with open(rec, "w") as f:
                f.write(content)
            out, err = devices(cache)
            if "ignoring it" not in err or want[name] not in err or rec not in err:
                fail("%s record not reported: %s" % (name, err))
            if "\x1b" in err:
                fail("an escape byte from the record reached the terminal")
            if "rule:" not in out or "measured by clgan tune" in out:
                fail("%s record not ignored:\n%s" % (name, out))
            print("ok   %s record ignored: %s" % (name, err.strip().splitlines()[0][:160]))
        # forced paths win over the record
        with open(rec, "w") as f:
            f.write(good)
        rc, out, err = run("devices", "--cache-dir", cache, "--gemm", "clblast")
        if rc != 0 or "GEMM: clblast (forced (--gemm clblast))" not in out:
            fail("--gemm clblast not shown as forced:\n" + out)
    print("ok   tune record round trip, corrupt/truncated/stale/hostile records ignored")


def part_refuse():
    rc, out, err = run("devices", "--gemm", "fast")
    if rc != 2 or "expected auto, clblast or native" not in err:
        fail("a bad --gemm value: rc %d, %s" % (rc, err))
    rc, out, err = run("devices", "--gemm", "native")
    lines = [l for l in out.splitlines() if "native kernels no" in l or "GEMM: unavailable" in l]
    print(out)
    ids, _ = opencl_devices()
    if not ids:
        print("no OpenCL device: skipped")
        sys.exit(77)
    without = [l for l in out.splitlines() if "GEMM: unavailable" in l]
    if not without:
        print("ok   bad --gemm refused; every device here runs native kernels (refusal tested in test_gemm.c)")
        return
    if "does not run native kernels" not in without[0]:
        fail("refusal does not say why: " + without[0])
    print("ok   --gemm native refused on a device without native kernels")


if __name__ == "__main__":
    {"tune": part_tune, "refuse": part_refuse}[sys.argv[1]]()
