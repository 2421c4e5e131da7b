#!/usr/bin/env python3
"""Runs one libFuzzer harness the way the `fuzz` test suite does:

 1. writes the seed corpus (make_corpus.py) into a fresh temporary folder;
 2. runs every file of tests/fuzz/regress/<harness>/ through the harness
    (any crash fails);
 3. fuzzes for $CLGAN_FUZZ_SECONDS (default 60) with -seed=1.

Any finding (crash, leak, timeout, out-of-memory, sanitizer report) exits 1
and names the reproducer; success prints one line with the executions and
the coverage. --corpus keeps the corpus in a folder of your own across runs
(tools/fuzz.sh); otherwise it lives in the temporary folder and goes away.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_corpus  # noqa: E402

# what libFuzzer or a sanitizer prints when something was found
FINDING = re.compile(r'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|'
                     r'runtime error:|^SUMMARY: ', re.M)
ARTIFACT = re.compile(r'Test unit written to (\S+)')


def fuzzer_flags(a):
    # -timeout and -rss_limit_mb bound a single input: a hang or a runaway
    # allocation is a finding, not a slow test
    return ['-rss_limit_mb=2048', '-timeout=10', '-max_len=%d' % a.max_len]


def report(text, lines=80):
    """The sanitizer's or libFuzzer's report (from its first line), else the end of the output."""
    m = FINDING.search(text)
    if m:
        return '\n'.join(text[text.rfind('\n', 0, m.start()) + 1:].splitlines()[:lines])
    return '\n'.join(text.splitlines()[-lines:])


def run(cmd, env, log_path, deadline_s):
    """Runs cmd with its output in log_path; returns (exit status, output)."""
    with open(log_path, 'w+b') as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            rc = p.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
        log.seek(0)
        return rc, log.read().decode('utf-8', 'replace')


def replay(a, env, work):
    """Runs the regression inputs; returns how many there were, or exits."""
    folder = os.path.join(HERE, 'regress', a.harness)
    files = sorted(f for f in os.listdir(folder) if not f.startswith('.')) if os.path.isdir(folder) else []
    failed = []
    for name in files:
        path = os.path.join(folder, name)
        rc, out = run([a.exe] + fuzzer_flags(a) + [path], env, os.path.join(work, 'regress.log'), 120)
        if rc != 0 or FINDING.search(out):
            print(report(out, 40))
            print('fuzz_%s: regression input %s fails (%s)' %
                  (a.harness, path, 'hung' if rc is None else 'exit %d' % rc))
            failed.append(name)
    if failed:
        print('fuzz_%s: %d of %d regression inputs fail; reproduce with: %s %s/<file>' %
              (a.harness, len(failed), len(files), a.exe, folder))
        sys.exit(1)
    return len(files)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--harness', required=True, choices=make_corpus.HARNESSES)
    ap.add_argument('--exe', required=True, help='the harness binary')
    ap.add_argument('--max-len', type=int, required=True)
    ap.add_argument('--seeds-exe', help='fuzz_seeds, for the seeds that need the library')
    ap.add_argument('--seconds', type=int, default=int(os.environ.get('CLGAN_FUZZ_SECONDS') or 60))
    ap.add_argument('--corpus', help='a corpus folder kept across runs (default: a temporary one)')
    ap.add_argument('--artifacts', help='where findings are written (default: fuzz-artifacts/<harness> beside --exe)')
    a = ap.parse_args()
    a.exe = os.path.abspath(a.exe)

    work = tempfile.mkdtemp(prefix='clgan-fuzz-%s-' % a.harness)
    scratch = work
    try:
        env = dict(os.environ)
        # the harnesses' scratch files: in memory where possible, since the
        # loaders that read paths spend most of their time on file writes
        shm = '/dev/shm'
        scratch = tempfile.mkdtemp(prefix='clgan-fuzz-', dir=shm if os.access(shm, os.W_OK) else work)
        env['TMPDIR'] = scratch
        # no OpenCL platform is probed: every harness runs on the host (ref)
        os.makedirs(os.path.join(work, 'no-icd'))
        env['OCL_ICD_VENDORS'] = os.path.join(work, 'no-icd')
        env.setdefault('UBSAN_OPTIONS', 'halt_on_error=1:print_stacktrace=1')
        env.setdefault('LSAN_OPTIONS', 'suppressions=%s:print_suppressions=0' %
                       os.path.join(HERE, '..', '..', 'tools', 'lsan.supp'))

        seeds = os.path.join(work, 'seeds')
        n_seeds, largest = make_corpus.write_corpus(a.harness, seeds, a.seeds_exe)
        if largest > a.max_len:
            print('fuzz_%s: a seed of %d bytes is over -max_len=%d; raise it in tests/fuzz/meson.build' %
                  (a.harness, largest, a.max_len))
            sys.exit(1)
        n_regress = replay(a, env, work)

        corpus = os.path.abspath(a.corpus) if a.corpus else os.path.join(work, 'corpus')
        os.makedirs(corpus, exist_ok=True)
        artifacts = os.path.abspath(a.artifacts or os.path.join(os.path.dirname(a.exe), 'fuzz-artifacts', a.harness))
        os.makedirs(artifacts, exist_ok=True)
        cmd = [a.exe, '-seed=1', '-max_total_time=%d' % a.seconds, '-print_final_stats=1',
               '-artifact_prefix=%s/' % artifacts] + fuzzer_flags(a) + [corpus, seeds]
        t0 = time.monotonic()
        # libFuzzer stops itself; the deadline only catches a fuzzer that cannot
        rc, out = run(cmd, env, os.path.join(work, 'fuzz.log'), a.seconds + 300)
        elapsed = time.monotonic() - t0
        found = FINDING.search(out)
        if rc != 0 or found:
            print(report(out))
            m = ARTIFACT.search(out)
            why = 'did not stop within %d s' % (a.seconds + 300) if rc is None else 'exit %d' % rc
            print('fuzz_%s: FINDING (%s); reproducer: %s' % (a.harness, why, m.group(1) if m else '(none written)'))
            if m:
                print('reproduce with: %s %s' % (a.exe, m.group(1)))
                print('keep it as a regression input: cp %s tests/fuzz/regress/%s/<what-it-breaks>' %
                      (m.group(1), a.harness))
            sys.exit(1)
        status = [l for l in out.splitlines() if re.match(r'#\d+\s', l) and ' cov: ' in l]
        last = status[-1] if status else ''
        cov = re.search(r'cov: (\d+)', last)
        ft = re.search(r'ft: (\d+)', last)
        corp = re.search(r'corp: (\d+)', last)
        execs = re.search(r'stat::number_of_executed_units: (\d+)', out)
        print('fuzz_%s: ok: %s executions in %.0f s, cov: %s ft: %s, corpus %s units (%d seeds, %d regression inputs)' %
              (a.harness, execs.group(1) if execs else '?', elapsed, cov.group(1) if cov else '?',
               ft.group(1) if ft else '?', corp.group(1) if corp else '?', n_seeds, n_regress))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
