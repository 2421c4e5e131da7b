#!/usr/bin/env bash
# Builds clgan twice and runs the whole test suite on each build:
#   build/      the normal build (-O2 -g)
#   build-san/  AddressSanitizer + UndefinedBehaviorSanitizer
# Tests that need an OpenCL device and find none are counted as skipped.
# Ends with one line: "N passed, N failed, N skipped" (exit 1 if any failed).
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
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
  meson test -C "$dir" --num-processes "$jobs" --print-errorlogs "${MESON_TEST_ARGS[@]}" || status=1
  # count results from meson's machine-readable log
  read -r p f s < <(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)['result']
    if r in ('OK', 'EXPECTEDFAIL'): p += 1
    elif r == 'SKIP': s += 1
    else: f += 1
print(p, f, s)
PY
)
  echo "$dir: $p passed, $f failed, $s skipped"
  total[passed]=$((total[passed]+p)); total[failed]=$((total[failed]+f)); total[skipped]=$((total[skipped]+s))
}

MESON_TEST_ARGS=("$@")
run_suite build
# ASan's leak checker follows the tests into the OpenCL driver; a driver's own
# one-time allocations are suppressed by name in tools/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
run_suite build-san -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
echo "${total[passed]} passed, ${total[failed]} failed, ${total[skipped]} skipped"
[ "${total[failed]}" -eq 0 ] && [ $status -eq 0 ]
