#!/usr/bin/env bash
# Where self-training pays: the Baseline, the augmented Baseline and Noisy Student on
# Fashion-MNIST and CIFAR10 0-4 (the JPEG copy) at 1%, 2%, 5%, 10% and 20% labeled, 5 outer
# folds, every other setting the `standard` preset's (version 2). The design is pre-registered
# in docs/labeled-fraction.md.
#
# Usage: scripts/labeled-fraction.sh [NSTUDENT] [DATA_DIR] [OUT_DIR] [JOBS]
#   defaults: target/release/nstudent, ../shared/datasets, labeled-fraction-results, 2
# One study per fraction in OUT_DIR/<percent>/ (its own study.toml, cells and table). Resumable:
# rerun the same command. At the end `nstudent curve` writes OUT_DIR/curve.svg, curve.csv and
# curve.md from the five studies.
set -euo pipefail
nstudent=$(realpath "${1:-target/release/nstudent}")
data=$(realpath "${2:-../shared/datasets}")
mkdir -p "${3:-labeled-fraction-results}"
out=$(realpath "${3:-labeled-fraction-results}")
jobs=${4:-2}

for pct in 1 2 5 10 20; do
  fraction=$(printf '0.%02d' "$pct")
  cat > "$out/$pct.toml" <<TOML
tasks = ["fashion-mnist", "cifar-10-jpeg:0-4"]
algorithms = ["baseline", "augmented-baseline", "noisy-student"]
outer_folds = 5
[pseudo]
teacher_factor = $fraction
TOML
  echo "== $pct% labeled" >&2
  "$nstudent" run --preset standard --config "$out/$pct.toml" --data-dir "$data" \
    --out "$out/$pct" --jobs "$jobs" --threads "$jobs" --quiet >/dev/null
done
"$nstudent" curve "$out"/1 "$out"/2 "$out"/5 "$out"/10 "$out"/20 --out "$out/curve"
