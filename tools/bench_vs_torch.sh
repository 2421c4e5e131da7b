#!/bin/sh
# bench_vs_torch.sh: clgan's bench_train and the PyTorch twins (tools/bench_torch.py) side by side, on the
# same shapes, with the rate of each and their ratio.
#
#   tools/bench_vs_torch.sh [-d DEVICE] [-r REPEATS] [-s STEPS] [-w WARMUP] [-b BUILD] [CONFIG]...
#
# CONFIG is MODEL:SIZE:CHANNELS; default: dcgan:28:1 mlp:28:1 dcgan:64:1 dcgan:32:3. DEVICE is clgan's
# (default 0:0, the first OpenCL device); REPEATS runs of each side per configuration, alternating, and
# the medians are reported (default 3); STEPS timed steps per run (default 10, after WARMUP = 3).
# PyTorch comes from the benchmark's own virtual environment (.venv-torch, see tools/README.md), on 2
# threads. Both sides: loss ns, Adam, batch 64, D step + G step; images/s = batch / median step time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
device=0:0 repeats=3 steps=10 warmup=3 build="$root/build"
while getopts d:r:s:w:b: opt; do
    case $opt in
    d) device=$OPTARG ;;
    r) repeats=$OPTARG ;;
    s) steps=$OPTARG ;;
    w) warmup=$OPTARG ;;
    b) build=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- dcgan:28:1 mlp:28:1 dcgan:64:1 dcgan:32:3
py="$root/.venv-torch/bin/python"
[ -x "$py" ] || { echo "bench_vs_torch: no $py (python3 -m venv .venv-torch && .venv-torch/bin/pip install torch)" >&2; exit 1; }
bt="$build/tools/bench_train"
[ -x "$bt" ] || { echo "bench_vs_torch: no $bt (ninja -C $build)" >&2; exit 1; }

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-12s %-8s %12s %12s %7s   %s\n' config device "clgan img/s" "torch img/s" ratio "runs (clgan | torch)"
for c in "$@"; do
    model=${c%%:*} rest=${c#*:} size=${rest%%:*} ch=${rest#*:}
    cl="" th=""
    i=0
    while [ $i -lt "$repeats" ]; do
        # images_per_s: bench_train's CSV has speedup, launches and syncs after it, bench_torch's the version (the model
        # name holds a comma, so count from the end)
        r=$("$bt" --model "$model" --image-size "$size" --channels "$ch" --device "$device" --steps "$steps" \
            --warmup "$warmup" --csv 2>/dev/null | awk -F, 'NR == 2 {print $(NF - 3)}')
        t=$("$py" "$root/tools/bench_torch.py" --model "$model" --image-size "$size" --channels "$ch" \
            --steps "$steps" --warmup "$warmup" --threads 2 --csv | awk -F, 'NR == 2 {print $(NF - 1)}')
        cl="$cl $r" th="$th $t"
        i=$((i + 1))
    done
    mc=$(echo "$cl" | tr ' ' '\n' | grep . | median)
    mt=$(echo "$th" | tr ' ' '\n' | grep . | median)
    ratio=$(awk -v a="$mc" -v b="$mt" 'BEGIN {printf "%.2fx", a / b}')
    printf '%-12s %-8s %12.1f %12.1f %7s  %s |%s\n' "$c" "$device" "$mc" "$mt" "$ratio" "$cl" "$th"
done
