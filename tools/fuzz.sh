#!/usr/bin/env bash
# Longer fuzzing runs than the test suite's:
#   tools/fuzz.sh [SECONDS] [HARNESS...]
# builds build-fuzz/ if needed (clang, libFuzzer + ASan + UBSan), then runs
# each harness (default: all of tests/fuzz/meson.build) for SECONDS (default
# 600), one after the other, exactly as its test does but with a corpus kept
# in build-fuzz/corpus/<harness> across runs (its output in
# build-fuzz/corpus/<harness>.log), and prints executions and coverage per
# harness. Findings are written to
# build-fuzz/tests/fuzz/fuzz-artifacts/<harness>/. Exit 1 if any harness found
# something.
#   tools/fuzz.sh --check    exit 0 if clang and its libFuzzer runtime are
#                            here, else say what is missing and exit 1
set -uo pipefail
cd "$(dirname "$0")/.."
dir=build-fuzz

check() {
  command -v clang >/dev/null || { echo "clang not found"; return 1; }
  local tmp
  tmp=$(mktemp -d) || return 1
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$tmp/t.c"
  if ! clang -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1; then
    rm -rf "$tmp"
    echo "clang cannot link -fsanitize=fuzzer,address,undefined (no libFuzzer runtime)"
    return 1
  fi
  rm -rf "$tmp"
}

if [ "${1:-}" = "--check" ]; then
  check
  exit
fi
seconds=600
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
check || exit 1
if [ ! -d "$dir" ]; then
  CC=clang CXX=clang++ meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
    >/dev/null || exit 1
fi
ninja -C "$dir" >"$dir/fuzz-sh-build.log" 2>&1 || { cat "$dir/fuzz-sh-build.log"; echo "build in $dir failed"; exit 1; }

# Each harness's test command from meson, so the flags live in one place.
mapfile -t tests < <(meson introspect "$dir" --tests | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if "fuzz" in t["suite"] or "clgan:fuzz" in t["suite"]:
        print(t["name"][len("fuzz_"):])')
if [ $# -eq 0 ]; then set -- "${tests[@]}"; fi
status=0
summary=()
for h in "$@"; do
  if [[ ! " ${tests[*]} " =~ " $h " ]]; then
    echo "tools/fuzz.sh: no harness '$h' (have: ${tests[*]})"
    status=1
    continue
  fi
  mkdir -p "$dir/corpus/$h"
  echo "== fuzz_$h: $seconds s, corpus $dir/corpus/$h"
  # run the test's own command (with its environment) plus --seconds/--corpus
  log="$dir/corpus/$h.log"
  meson introspect "$dir" --tests | python3 -c '
import json, os, sys
h, seconds, corpus, build = sys.argv[1:]
t = next(t for t in json.load(sys.stdin) if t["name"] == "fuzz_" + h)
env = dict(os.environ, **t["env"])
os.chdir(t["workdir"] or build)  # where meson test runs it
os.execvpe(t["cmd"][0], t["cmd"] + ["--seconds", seconds, "--corpus", corpus], env)
' "$h" "$seconds" "$PWD/$dir/corpus/$h" "$dir" 2>&1 | tee "$log" || status=1
  summary+=("$(tail -n 1 "$log")")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
