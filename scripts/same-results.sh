#!/usr/bin/env bash
# Do two builds compute the same study? A refactoring of the study layer must leave every
# result bit-identical (committed cells are verified against later builds). This runs three
# small studies that together take every search path of a cell, with build A and build B, and
# compares their tables in every column but the two time columns, and their cell files with
# the time fields and the file's checksum (which covers the times) removed:
#   grid         grid search of Noisy Student and of the Ensemble (several ensemble sizes in
#                one inner fold), the Baseline and both controls;
#   after-ns     the `seed` preset's search: the Ensemble's ensemble size chosen after the
#                fold's Noisy Student search (read from the fold's cache);
#   halving      successive halving (rungs of 1 and 2 epochs).
# On the embedded fashion-mnist-10k (classes 0-2, 3,000 images): no data to download.
#
# Usage: scripts/same-results.sh BUILD_A BUILD_B [OUT_DIR]
#   e.g. scripts/same-results.sh /tmp/nstudent-old target/release/nstudent
# Exit status 0 when every study is the same; about 10 minutes per build on one idle core.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: scripts/same-results.sh BUILD_A BUILD_B [OUT_DIR]" >&2; exit 2; }
a=$(realpath "$1")
b=$(realpath "$2")
out=${3:-$(mktemp -d)}
mkdir -p "$out"
out=$(realpath "$out")

config() { # search ensemble_search
  cat <<TOML
seed = 7
tasks = ["fashion-mnist-10k:0-2"]
algorithms = ["baseline", "augmented-baseline", "noisy-student", "baseline-ensemble", "ensemble"]
outer_folds = 2
inner_folds = 2
search = "$1"
[space]
unl_factor = [0.2, 0.1]
threshold = [0.4, 0.7]
num_students = [1, 2]
ensemble_size = [2, 3]
ensemble_search = "$2"
[halving]
eta = 3
min_epochs = 1
[training]
epochs = 2
[pseudo]
unlabeled = "slice"
TOML
}

# A table without its time columns (the last two), and every cell file without its times.
strip() {
  local dir=$1
  cut -d, -f1-11 "$dir/metrics_table.csv"
  find "$dir/cells" -name '*.json' | sort | while read -r f; do
    echo "== ${f#"$dir"/}"
    python3 -c '
import json, sys
def drop(v):
    if isinstance(v, dict):
        return {k: drop(x) for k, x in v.items()
                if "seconds" not in k and "time" not in k and k != "checksum"}
    if isinstance(v, list):
        return [drop(x) for x in v]
    return v
print(json.dumps(drop(json.load(open(sys.argv[1]))), sort_keys=True, indent=1))' "$f"
  done
}

status=0
for study in "grid grid grid" "after-ns grid after-noisy-student" "halving halving grid"; do
  set -- $study
  name=$1
  config "$2" "$3" > "$out/$name.toml"
  for build in a b; do
    bin=$a
    [ $build = b ] && bin=$b
    "$bin" run --config "$out/$name.toml" --out "$out/$name-$build" --threads 1 --jobs 1 --quiet >/dev/null
    strip "$out/$name-$build" > "$out/$name-$build.txt"
  done
  if cmp -s "$out/$name-a.txt" "$out/$name-b.txt"; then
    echo "$name: same ($(($(wc -l < "$out/$name-a/metrics_table.csv") - 1)) rows, $(find "$out/$name-a/cells" -name '*.json' | wc -l) cells)"
  else
    echo "$name: DIFFERENT (diff $out/$name-a.txt $out/$name-b.txt)"
    status=1
  fi
done
exit $status
