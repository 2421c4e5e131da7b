#!/usr/bin/env bash
# Builds clgan three times and runs the test suite on each build:
#   build/       the normal build (-O2 -g)
#   build-san/   AddressSanitizer + UndefinedBehaviorSanitizer
#   build-fuzz/  clang, libFuzzer + ASan + UBSan: only the fuzz suite, each
#                harness for $CLGAN_FUZZ_SECONDS (default 60; tests/fuzz/README.md)
# and compiles a release build (build-release/, -O3, no tests run: counted as
# one test), since -O3 warns of things -O2 does not and warnings are errors.
# Tests that need an OpenCL device and find none are counted as skipped, and
# so is the whole fuzz run when clang or its libFuzzer runtime is missing.
# Ends with one line: "N passed, N failed, N skipped" (exit 1 if any failed).
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
# The ONNX export test checks clgan's models with onnxruntime and the onnx
# package's checker (PyPI, test dependencies only): installed once into .venv-onnx when PyPI is reachable,
# else that test is skipped.
if [ ! -x .venv-onnx/bin/python ] || ! .venv-onnx/bin/python -c 'import onnxruntime, numpy, onnx' 2>/dev/null; then
  if python3 -m venv .venv-onnx >/dev/null 2>&1 && .venv-onnx/bin/pip install -q onnxruntime numpy onnx >/dev/null 2>&1; then
    echo "test.sh: onnxruntime installed in .venv-onnx for the ONNX export test"
  else
    rm -rf .venv-onnx
    echo "test.sh: onnxruntime could not be installed (no PyPI?): the ONNX export test will be skipped"
  fi
fi
status=0
declare -A total=([passed]=0 [failed]=0 [skipped]=0)

run_suite() {  # dir, meson setup options...
  local dir=$1; shift
  if [ ! -d "$dir" ]; then
    meson setup "$dir" "$@" >/dev/null || { echo "meson setup $dir failed"; total[failed]=$((total[failed]+1)); status=1; return; }
  fi
  if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
    cat "$dir.build.log"; echo "build in $dir failed"; total[failed]=$((total[failed]+1)); status=1; return
  fi
  # a run that selects no test writes no log: do not count the last one's
  log="$dir/meson-logs/testlog.json"
  rm -f "$log" "$log.first"
  meson test -C "$dir" --num-processes "$jobs" --print-errorlogs "${MESON_TEST_ARGS[@]}"
  [ -f "$log" ] && mv "$log" "$log.first"
  # LeakSanitizer's own crash at exit ("Tracer caught signal", "LeakSanitizer has encountered a fatal
  # error": its tracer stopping the OpenCL driver's threads faulted, after the test had reported) is not
  # the test's result: such a test runs once more, alone, and that run counts. Any other failure stands.
  mapfile -t again < <(python3 - "$log.first" <<'PY'
import json, os, sys
for line in (open(sys.argv[1]) if os.path.exists(sys.argv[1]) else []):
    r = json.loads(line)
    if r['result'] not in ('OK', 'EXPECTEDFAIL', 'SKIP') and \
            'LeakSanitizer has encountered a fatal error' in (r.get('stdout') or '') + (r.get('stderr') or ''):
        print(r['name'].split(' / ')[-1])  # "clgan:ops / NAME": meson test takes NAME
PY
)
  if [ ${#again[@]} -gt 0 ]; then
    echo "$dir: LeakSanitizer itself crashed in ${again[*]}: running again"
    meson test -C "$dir" --no-rebuild --num-processes 1 --print-errorlogs "${again[@]}"
  fi
  # count results from meson's machine-readable logs (a rerun's result replaces the first)
  read -r p f s < <(python3 - "$log.first" "$log" <<'PY'
import json, os, sys
res = {}
for path in sys.argv[1:] if os.path.exists(sys.argv[2]) and os.path.exists(sys.argv[1]) else sys.argv[1:2]:
    for line in (open(path) if os.path.exists(path) else []):
        r = json.loads(line)
        res[r['name']] = r['result']
p = f = s = 0
for r in res.values():
    if r in ('OK', 'EXPECTEDFAIL'): p += 1
    elif r == 'SKIP': s += 1
    else: f += 1
print(p, f, s)
PY
)
  [ "$f" -gt 0 ] && status=1
  echo "$dir: $p passed, $f failed, $s skipped"
  total[passed]=$((total[passed]+p)); total[failed]=$((total[failed]+f)); total[skipped]=$((total[skipped]+s))
}

MESON_TEST_ARGS=("$@")
run_suite build
if [ $# -eq 0 ]; then
  if { [ -d build-release ] || meson setup build-release -Dbuildtype=release >/dev/null; } &&
     ninja -C build-release >build-release/compile.log 2>&1; then
    echo "build-release: compiles"; total[passed]=$((total[passed]+1))
  else
    grep -E "error|warning" build-release/compile.log | head -20
    echo "build-release: FAILED to compile (build-release/compile.log)"; total[failed]=$((total[failed]+1)); status=1
  fi
fi
# ASan's leak checker follows the tests into the OpenCL driver; a driver's own
# one-time allocations are suppressed by name in tools/lsan.supp. use_tls=0:
# the checker does not scan thread-local storage for pointers. On some
# machines (seen on a 2-core Xeon VM with glibc 2.36 and GCC 12's runtime) it
# read a garbage dynamic-TLS range left by a library PoCL had loaded and
# closed, crashed ("Tracer caught signal 11" after "DTLS ... at 0x9c5") and
# failed about half the runs of the generic convolution op tests. Not
# scanning TLS can only report more blocks as leaked, never fewer.
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0:use_tls=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
run_suite build-san -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fuzz_tests=8  # one per harness in tests/fuzz/meson.build
if fuzz_missing=$(tools/fuzz.sh --check 2>&1); then
  # the fuzz build defines only the fuzz suite; arguments select within it
  if [ $# -eq 0 ]; then MESON_TEST_ARGS=(--suite fuzz); else MESON_TEST_ARGS=("$@"); fi
  CC=clang CXX=clang++ run_suite build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
  # each harness's executions and coverage (its last line of output)
  [ -f build-fuzz/meson-logs/testlog.json.first ] && python3 - build-fuzz/meson-logs/testlog.json.first <<'PY'
import json, sys
for line in open(sys.argv[1]):
    out = (json.loads(line).get('stdout') or '').strip().splitlines()
    if out: print('  ' + out[-1])
PY
else
  echo "build-fuzz: skipped, $fuzz_missing (tools/install-deps.sh installs clang and libclang-rt-dev)"
  total[skipped]=$((total[skipped]+fuzz_tests))
fi
echo "${total[passed]} passed, ${total[failed]} failed, ${total[skipped]} skipped"
[ "${total[failed]}" -eq 0 ] && [ $status -eq 0 ]
