#!/usr/bin/env bash
# A separate unlabeled set that is out of distribution, on real data (`train --unlabeled`):
# 10% of MNIST 0-4 train keeps its labels (stratified, seeded); the Noisy Student pool is
#   in-dist: the other 90% of MNIST 0-4 train (the default pool),
#   same-5:  every MNIST 0-4 train image, from a separate set (`--unlabeled mnist:0-4`),
#   all-10:  every MNIST train image of all ten digits (`--unlabeled mnist`): half of it shows
#            digits the task does not have.
# Scored on the official MNIST 0-4 test split, with the baseline for reference, seeds 1-3.
#
# Usage: scripts/unlabeled-ood.sh [NSTUDENT] [DATASETS_DIR] [OUT_DIR]
set -euo pipefail
nstudent=$(realpath "${1:-target/release/nstudent}")
data=$(realpath "${2:-../shared/datasets}")
out=${3:-docs/results/unlabeled-ood}
mkdir -p "$out"
common=(--data mnist:0-4 --data-dir "$data" --eval test --epochs 5 --threads 1 --num-students 1)
table="$out/table.csv"
echo "pool,seed,labeled,unlabeled,test_accuracy,kept_per_class,seconds" > "$table"
for seed in 1 2 3; do
  for pool in baseline in-dist same-5 all-10; do
    case $pool in
      baseline) extra=(--algo baseline) ;;
      in-dist) extra=(--algo noisy-student) ;;
      same-5) extra=(--algo noisy-student --unlabeled mnist:0-4) ;;
      all-10) extra=(--algo noisy-student --unlabeled mnist) ;;
    esac
    work=$(mktemp -d)
    "$nstudent" train "${common[@]}" "${extra[@]}" --seed "$seed" \
      --report "$out/$pool-seed$seed.json" --out "$work/m.safetensors" > "$out/$pool-seed$seed.log" 2>&1
    rm -rf "$work"
    python3 - "$out/$pool-seed$seed.json" "$pool" "$seed" >> "$table" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
it = (r.get("iterations") or [{}])[-1]
acc = it.get("eval_accuracy", r.get("teacher_eval_accuracy"))
kept = "/".join(str(k) for k in it.get("kept_per_class", []))
print(f'{sys.argv[2]},{sys.argv[3]},{r["labeled_rows"]},{r["unlabeled_rows"]},{acc:.4f},{kept},{r["seconds"]:.1f}')
PY
    tail -1 "$table"
  done
done
"$nstudent" --version > "$out/build.txt"
