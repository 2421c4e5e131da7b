#!/usr/bin/env bash
# Mode collapse on the 2-D mixtures: trains the toy model on ring8 and grid25
# with each loss and several seeds, then measures each run with `clgan eval`
# (the VEEGAN/PacGAN protocol: 2,500 samples, high quality within 3 sigma of a
# mode). Prints one line per run and the mean per (dataset, loss).
#
#   tools/mode_collapse.sh [BUILD_DIR] [STEPS] [SEEDS] [DEVICE] [TRAIN OPTIONS...]
#
# SEEDS defaults to "1 2 3 4 5"; LOSSES and DATASETS in the environment narrow
# the runs (e.g. LOSSES="ns wgan-gp" DATASETS=grid25). TRAIN OPTIONS go to
# every `clgan train` (e.g. --preset pacgan --pack 4, or --lr 1e-3 --widths
# 128,128,128); without them each loss runs with its paper defaults. The
# summary gives mean ± standard deviation over the seeds (the sample standard
# deviation, n - 1) and each seed's figure.
#
# STEPS counts generator steps for the losses with one D step per G step and
# is divided by n_critic (5) for wgan and wgan-gp, so every run makes the same
# number of discriminator updates. Published figures for comparison (modes,
# high-quality fraction): ring8 VEEGAN 8 / 52.9%, PacGAN4 7.8 / 95.9%;
# grid25 VEEGAN 24.6 / 40%, PacGAN4 24.8 / 93.6%.
set -euo pipefail
build=${1:-build}
steps=${2:-3000}
seeds=${3:-"1 2 3 4 5"}
device=${4:-cpu}
shift $(($# < 4 ? $# : 4))
extra=("$@")
clgan="$build/src/cli/clgan"
out=$(mktemp -d /tmp/clgan-modes-XXXXXX)
echo "train options: ${extra[*]:-(the paper defaults per loss)}"
printf '%-7s %-8s %4s %6s %7s %9s %8s\n' data loss seed steps modes hq_frac rev_kl
for data in ${DATASETS:-ring8 grid25}; do
  for loss in ${LOSSES:-minimax ns wgan wgan-gp hinge}; do
    s=$steps
    case $loss in wgan|wgan-gp) s=$((steps / 5));; esac
    for seed in $seeds; do
      dir="$out/$data-$loss-$seed"
      "$clgan" train --model toy --dataset "$data" --loss "$loss" --seed "$seed" --steps "$s" \
        --sample-every 0 --checkpoint-every 0 --log-every 1000000 --out "$dir" --device "$device" --quiet "${extra[@]}"
      json=$("$clgan" eval --checkpoint "$dir" --json --device "$device" --quiet)
      python3 - "$data" "$loss" "$seed" "$s" "$json" <<'PY'
import json, sys
d, l, seed, s, j = sys.argv[1:6]
r = json.loads(j)
print('%-7s %-8s %4s %6s %3d/%-3d %9.3f %8.3f' % (d, l, seed, s, r['modes_covered'], r['modes_total'],
      r['high_quality_fraction'], r['reverse_kl'] if r['reverse_kl'] is not None else float('inf')))
PY
    done
  done
done | tee "$out/results.txt"
python3 - "$out/results.txt" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    rows[(f[0], f[1])].append((int(f[4].split('/')[0]), 100 * float(f[5])))
def ms(v):
    return '%5.1f ± %4.1f' % (statistics.mean(v), statistics.stdev(v) if len(v) > 1 else 0.0)
print('\nmean ± standard deviation over seeds')
for (d, l), v in rows.items():
    m, h = [a for a, _ in v], [b for _, b in v]
    print('%-7s %-8s modes %s (%s)  high quality %s%% (%s)' % (d, l, ms(m), ', '.join('%d' % a for a in m), ms(h),
                                                              ', '.join('%.1f' % b for b in h)))
PY
echo "runs in $out"
