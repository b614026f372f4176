#!/usr/bin/env bash
# One build's single-model training at 1 and 2 threads, interleaved, ROUNDS pairs of `bench`
# runs, then each round's 2-thread over 1-thread ratio at batch 32 and the ratio of the medians.
#   bench/threads_ratio.sh [NSTUDENT] [ROUNDS]
# On this repository's shared 2-core machine, 2-thread figures of one build swung from 7,003 to
# 10,057 images/s between rounds of one run (docs/results/engine-threads/), so read the medians.
set -euo pipefail
b=${1:-target/release/nstudent}; rounds=${2:-4}
[ -x "$b" ] || { echo "threads_ratio: $b is not an executable; build nstudent (cargo build --release) or pass its path" >&2; exit 2; }
case $rounds in ''|*[!0-9]*|0) echo "threads_ratio: ROUNDS must be a whole number above 0, not '$rounds'" >&2; exit 2 ;; esac
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for r in $(seq 1 $rounds); do
  for t in 1 2; do
    echo "round $r threads $t: $("$b" bench --format json --repeats 5 --threads $t)" | tee -a "$tmp"
  done
done
python3 - "$tmp" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    head, body = line.split(":", 1)
    r, t = head.split()[1], head.split()[3]
    runs[(r, t)] = json.loads(body)
keys = ("train_28x28x1_b32", "train_32x32x3_b32")
rounds = sorted({r for r, _ in runs}, key=int)
for r in rounds:
    print(f"round {r} 2 threads / 1 thread:", ", ".join(f"{k} {runs[(r, '2')][k] / runs[(r, '1')][k]:.2f}x" for k in keys))
for k in keys:
    one = statistics.median(runs[(r, "1")][k] for r in rounds)
    two = statistics.median(runs[(r, "2")][k] for r in rounds)
    print(f"medians {k}: 1 thread {one:.0f}, 2 threads {two:.0f} images/s: {two / one:.2f}x")
PY
