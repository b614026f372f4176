#!/usr/bin/env bash
# Chooses the default student noise (dropout, RandAugment magnitude) and pseudo-label threshold
# on data that no reported result scores: the official *test* splits of Fashion-MNIST (the
# embedded fashion-mnist-10k) and of CIFAR-10 (the test/ folder of the JPEG copy). Every study
# preset uses train splits only, so these images are never a test fold of a reported result.
#
# Each grid point is a 5-fold study of Baseline and Noisy Student (one noised student, the whole
# unlabeled pool, class balancing, 10% stratified labels, 5 epochs). Grid A varies the noise at
# threshold 0.6; grid B the threshold at dropout 0.3 and magnitude 5. It prints the mean
# accuracy of every point per task and averaged over both tasks.
#
# Usage: scripts/tune-defaults.sh [NSTUDENT] [DATASETS_DIR] [OUT_DIR]
#   defaults: target/release/nstudent, ../shared/datasets, tuning-results
# Resumable: rerun the same command after a kill. Cost on 2 cores: about 30 minutes.
set -euo pipefail
nstudent=$(realpath "${1:-target/release/nstudent}")
datasets=$(realpath "${2:-../shared/datasets}")
mkdir -p "${3:-tuning-results}"
out=$(realpath "${3:-tuning-results}")
[ -d "$datasets/cifar-10-jpeg/test" ] || { echo "no $datasets/cifar-10-jpeg/test" >&2; exit 2; }
# The task is named by a link, so the task name (and the seeds derived from it) does not
# depend on where the datasets live.
mkdir -p "$out/data"
ln -sfn "$datasets/cifar-10-jpeg/test" "$out/data/cifar10-test"

config() { # dropout augment magnitude threshold
  cat <<TOML
seed = 1
tasks = ["fashion-mnist-10k", "cifar10-test"]
algorithms = ["baseline", "noisy-student"]
outer_folds = 5
inner_folds = 2
[space]
unl_factor = [0.2]
threshold = [$4]
num_students = [1]
ensemble_size = [2]
[training]
epochs = 5
epochs_by_source = {}
[noise]
augment = $2
augment_ops = 2
augment_magnitude = $3
dropout = $1
survival = 1.0
[pseudo]
teacher_factor = 0.1
labeled_split = "stratified"
unlabeled = "all"
labels = "hard"
balance = "paper"
relabel = true
TOML
}

points=()
for d in 0.0 0.3 0.5; do
  points+=("$d false 0.0 0.6" "$d true 5.0 0.6" "$d true 9.0 0.6")
done
points+=("0.3 true 5.0 0.4" "0.3 true 5.0 0.8")
cd "$out/data"
for p in "${points[@]}"; do
  set -- $p
  name="d$1-$( [ "$2" = true ] && echo "m$3" || echo "noaug")-t$4"
  config "$@" > "$out/$name.toml"
  echo "== $name" >&2
  "$nstudent" run --config "$out/$name.toml" --out "$out/$name" --quiet --threads 2 --jobs 2 >/dev/null
done
python3 - "$out" "${points[@]}" <<'PY'
import csv, sys, statistics as st
out, points = sys.argv[1], sys.argv[2:]
print("| dropout | augmentation | threshold | Fashion-MNIST test split | CIFAR-10 test split (JPEG) | mean |")
print("|---|---|---|---|---|---|")
base = None
for p in points:
    d, aug, m, t = p.split()
    name = f"d{d}-{'m'+m if aug == 'true' else 'noaug'}-t{t}"
    acc = {}
    for row in csv.DictReader(open(f"{out}/{name}/metrics_table.csv")):
        acc.setdefault((row["Dataset Name"], row["Algorithm Name"]), []).append(float(row["Accuracy"]))
    ns = [st.mean(v) for (task, a), v in sorted(acc.items()) if a == "Noisy Student"]
    bl = [st.mean(v) for (task, a), v in sorted(acc.items()) if a == "Baseline"]
    base = bl
    print(f"| {d} | {'magnitude ' + m if aug == 'true' else 'off'} | {t} | " + " | ".join(f"{x:.4f}" for x in ns) + f" | {st.mean(ns):.4f} |")
print("| Baseline | | | " + " | ".join(f"{x:.4f}" for x in base) + f" | {st.mean(base):.4f} |")
PY
