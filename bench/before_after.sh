#!/usr/bin/env bash
# Engine speed of two nstudent builds against PyTorch in one sitting, for a before/after table:
#   bench/before_after.sh BEFORE AFTER [PYTHON]
# Runs PyTorch at 1 and 2 threads, then each build (on its default kernels) for the issue's
# figures: 2 threads, 1 thread, and 2 one-thread models side by side. Prints each build's JSON
# lines (with ratios to PyTorch at the same threads; the side-by-side line's ratios are against
# PyTorch at 2 threads, one model), then each build's 2-thread over 1-thread ratio for a single
# model at batch 32, per round.
set -euo pipefail
before="$1"
after="$2"
python="${3:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$python" "$here/pytorch_reference.py" --threads 1 --json >"$tmp/torch1.json"
"$python" "$here/pytorch_reference.py" --threads 2 --json >"$tmp/torch2.json"
echo "pytorch 1 thread:  $(cat "$tmp/torch1.json")"
echo "pytorch 2 threads: $(cat "$tmp/torch2.json")"
for round in 1 2; do
  for build in "$before" "$after"; do
    name="$(basename "$build")"
    "$build" bench --format json --repeats 5 --threads 2 --reference "$tmp/torch2.json" >"$tmp/two.json"
    "$build" bench --format json --repeats 5 --threads 1 --reference "$tmp/torch1.json" >"$tmp/one.json"
    echo "round $round $name 2 threads:    $(cat "$tmp/two.json")"
    echo "round $round $name 1 thread:     $(cat "$tmp/one.json")"
    "$python" - "$tmp/two.json" "$tmp/one.json" "round $round $name 2 threads / 1 thread:" <<'PY'
import json, sys
two, one = (json.load(open(p)) for p in sys.argv[1:3])
keys = ("train_28x28x1_b32", "train_32x32x3_b32")
print(sys.argv[3], ", ".join(f"{k} {two[k] / one[k]:.2f}x" for k in keys))
PY
    echo "round $round $name 2 x 1 thread: $("$build" bench --format json --repeats 5 --threads 1 --models 2 --reference "$tmp/torch2.json")"
  done
done
