#!/usr/bin/env bash
# What each fix of the original notebook buys (version 2, pre-registered in docs/ablation.md):
# eight rungs on Fashion-MNIST and CIFAR10 0-4 (the JPEG copy), each adding one change to the
# rung before, 10 outer folds, fixed hyperparameters and paired teachers, so every rung's folds
# start from the same Baseline model. The hyperparameters are the `standard` preset's
# (docs/standard.md), with 2 students so that relabeling can act (a second teacher relabels what
# the first labeled):
#
#   0 baseline      the teacher every rung starts from
#   1 seed          the notebook's algorithm: no noise, no balancing, slices of 0.2, labels kept
#   2 +noise        RandAugment (2 ops, magnitude 5) and dropout 0.3 on the student
#   3 +balance      the paper's class balancing
#   4 +pool         every iteration pseudo-labels the whole pool (labels still kept as first given)
#   5 +relabel      each new teacher relabels the pool (the paper's algorithm; `standard`'s NS)
#   6 +soft         soft pseudo-labels (the teacher's probabilities)
#   7 ensemble      2 teachers and 2 students with rung 5's settings (the `standard` Ensemble's
#                   hard labels)
#
# All rungs use the 10% stratified labeled split (the notebook took the first 10%), so that the
# rungs differ by their own change only. Each rung's full config is written to OUT/<rung>.toml
# and printed by `nstudent run --print-config` into OUT/<rung>.config.txt.
#
# Usage: scripts/ablation.sh [NSTUDENT] [DATA_DIR] [OUT_DIR] [FOLDS] [STUDENTS]
#   defaults: target/release/nstudent, ../shared/datasets, ablation-results, 10, 2
# Resumable: rerun the same command. Prints docs/ablation.md's table (markdown) at the end, with
# Holm's correction over every p-value of the table (scripts/ablation-table.py, which also
# reprints it from a finished OUT_DIR without running anything).
set -euo pipefail
nstudent=$(realpath "${1:-target/release/nstudent}")
data=$(realpath "${2:-../shared/datasets}")
mkdir -p "${3:-ablation-results}"
out=$(realpath "${3:-ablation-results}")
folds=${4:-10}
students=${5:-2}

config() { # algorithm noise(on|off) balance unlabeled(slice|all) relabel labels
  local augment=false dropout=0.0
  if [ "$2" = on ]; then augment=true; dropout=0.3; fi
  cat <<TOML
seed = 1
tasks = ["fashion-mnist", "cifar-10-jpeg:0-4"]
algorithms = ["$1"]
outer_folds = $folds
inner_folds = 3
[space]
unl_factor = [0.2]
threshold = [0.4]
num_students = [$students]
ensemble_size = [2]
[training]
epochs = 5
[noise]
augment = $augment
augment_ops = 2
augment_magnitude = 5.0
dropout = $dropout
survival = 1.0
[pseudo]
teacher_factor = 0.1
labeled_split = "stratified"
unlabeled = "$4"
labels = "$6"
temperature = 1.0
balance = "$3"
relabel = $5
[execution]
data_dir = "$data"
TOML
}

rungs=(
  "0-baseline baseline off none slice false hard"
  "1-seed noisy-student off none slice false hard"
  "2-noise noisy-student on none slice false hard"
  "3-balance noisy-student on paper slice false hard"
  "4-pool noisy-student on paper all false hard"
  "5-relabel noisy-student on paper all true hard"
  "6-soft noisy-student on paper all true soft"
  "7-ensemble ensemble on paper all true hard"
)
for r in "${rungs[@]}"; do
  set -- $r
  name=$1; shift
  config "$@" > "$out/$name.toml"
  "$nstudent" run --config "$out/$name.toml" --out "$out/$name" --print-config > "$out/$name.config.txt"
  echo "== $name" >&2
  "$nstudent" run --config "$out/$name.toml" --out "$out/$name" --quiet >/dev/null
done

names=()
for r in "${rungs[@]}"; do names+=("${r%% *}"); done
python3 "$(dirname "$0")/ablation-table.py" "$out" "$nstudent" "${names[@]}"
