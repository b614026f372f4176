#!/usr/bin/env bash
# The first hour with your own images, replayed as a new user types it (README, "Your own
# images"): a 3-class folder (600 labeled training images, 900 test images, 3,000 unlabeled
# images in a flat folder) made from the CIFAR-10 JPEG copy, then data info -> train ->
# predict on new images -> compare -> a small study -> stats -> the report.
#
# Usage: scripts/first-hour.sh [NSTUDENT] [OUTDIR] [DATA]
#   defaults: target/release/nstudent, docs/results/first-hour, ../shared/datasets
# Writes OUTDIR/transcript.txt (every command and its output, with wall times). Takes about
# 6 minutes on 2 cores. The images are copied into a temporary folder that is removed after.
set -euo pipefail
nstudent=$(realpath "${1:-target/release/nstudent}")
out=$(realpath -m "${2:-docs/results/first-hour}")
data=$(realpath "${3:-../shared/datasets}")
jpeg="$data/cifar-10-jpeg"
[ -d "$jpeg/train/cat" ] || { echo "first-hour.sh: $jpeg/train/cat is missing (see $data/README.md)" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The user's folder: mydata/train/<class>, mydata/test/<class>, mydata/unlabeled (flat), and
# new/ (images to predict). Files are taken in name order, so the folder is the same each run.
for class in cat dog ship; do
  mkdir -p "mydata/train/$class" "mydata/test/$class" mydata/unlabeled new
  ls "$jpeg/train/$class" | sort | sed -n 1,200p | while read -r f; do cp "$jpeg/train/$class/$f" "mydata/train/$class/"; done
  ls "$jpeg/train/$class" | sort | sed -n 201,1200p | while read -r f; do cp "$jpeg/train/$class/$f" "mydata/unlabeled/$class-$f"; done
  ls "$jpeg/test/$class" | sort | sed -n 1,300p | while read -r f; do cp "$jpeg/test/$class/$f" "mydata/test/$class/"; done
  ls "$jpeg/test/$class" | sort | sed -n 301,303p | while read -r f; do cp "$jpeg/test/$class/$f" "new/$class-$f"; done
done

transcript="$out/transcript.txt"
{
  echo "# $("$nstudent" --version) ($nstudent), $(nproc) cores, $(date -u +%FT%TZ)"
  echo "# mydata: $(find mydata/train -type f | wc -l) training, $(find mydata/test -type f | wc -l) test, $(find mydata/unlabeled -type f | wc -l) unlabeled images; new: $(find new -type f | wc -l) images"
} > "$transcript"

# Runs one command as the user types it (`nstudent` for the binary), appending the command,
# its output (stderr and stdout, in order) and its wall time to the transcript.
step() {
  echo >> "$transcript"
  echo "\$ nstudent $*" >> "$transcript"
  local start=$SECONDS
  "$nstudent" "$@" >> "$transcript" 2>&1
  echo "[$((SECONDS - start)) s]" >> "$transcript"
}

step data info mydata
step train --data mydata --unlabeled mydata/unlabeled --algo noisy-student --eval test --out model.safetensors
step predict --model model.safetensors --data new --out predictions.csv
echo "\$ cat predictions.csv" >> "$transcript"
cat predictions.csv >> "$transcript"
step train --data mydata --unlabeled mydata/unlabeled --algo baseline --eval test --out teacher-model.safetensors
step compare --model teacher-model.safetensors --model model.safetensors --data mydata
step run --preset quick --data mydata --unlabeled mydata/unlabeled --out study --plan
step run --preset quick --data mydata --unlabeled mydata/unlabeled --out study
step stats study/metrics_table.csv
step report study
echo "wrote $transcript"
