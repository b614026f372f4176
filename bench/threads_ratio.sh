#!/usr/bin/env bash
# Single-model training at 1 and 2 threads, interleaved, ROUNDS pairs of `bench` runs per
# build, then each round's 2-thread over 1-thread ratio at batch 32 and the ratio of the medians.
#   bench/threads_ratio.sh [NSTUDENT] [ROUNDS] [OTHER_NSTUDENT ...]
# Several builds take turns within each round (build A at 1 and 2 threads, then build B, ...),
# so a before/after comparison sees the same machine.
# On this repository's shared 2-core machine, 2-thread figures of one build swung from 7,003 to
# 10,057 images/s between rounds of one run (docs/results/engine-threads/), so read the medians.
set -euo pipefail
builds=("${1:-target/release/nstudent}"); rounds=${2:-4}
[ $# -gt 2 ] && builds+=("${@:3}")
for b in "${builds[@]}"; do
  [ -x "$b" ] || { echo "threads_ratio: $b is not an executable; build nstudent (cargo build --release) or pass its path" >&2; exit 2; }
done
case $rounds in ''|*[!0-9]*|0) echo "threads_ratio: ROUNDS must be a whole number above 0, not '$rounds'" >&2; exit 2 ;; esac
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for r in $(seq 1 $rounds); do
  for i in "${!builds[@]}"; do
    for t in 1 2; do
      echo "build $i round $r threads $t: $("${builds[$i]}" bench --format json --repeats 5 --threads $t)" | tee -a "$tmp"
    done
  done
done
python3 - "$tmp" "${builds[@]}" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    head, body = line.split(":", 1)
    _, b, _, r, _, t = head.split()
    runs[(b, r, t)] = json.loads(body)
names = sys.argv[2:]
keys = ("train_28x28x1_b32", "train_32x32x3_b32")
rounds = sorted({r for _, r, _ in runs}, key=int)
for b, name in enumerate(names):
    b = str(b)
    label = f"{name}: " if len(names) > 1 else ""
    for r in rounds:
        ratios = (runs[(b, r, "2")][k] / runs[(b, r, "1")][k] for k in keys)
        print(f"{label}round {r} 2 threads / 1 thread:", ", ".join(f"{k} {x:.2f}x" for k, x in zip(keys, ratios)))
    for k in keys:
        one = statistics.median(runs[(b, r, "1")][k] for r in rounds)
        two = statistics.median(runs[(b, r, "2")][k] for r in rounds)
        print(f"{label}medians {k}: 1 thread {one:.0f}, 2 threads {two:.0f} images/s: {two / one:.2f}x")
PY
