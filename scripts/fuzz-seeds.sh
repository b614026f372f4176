#!/usr/bin/env bash
# Writes the seed corpora of scripts/fuzz.sh (fuzz/seeds/<target>/) from real files: slices of
# the shared datasets, files nstudent itself writes (a model, a study config, a cell file, a
# metrics table, predict's CSVs). Small enough to commit (a few KB each).
#
# Usage: scripts/fuzz-seeds.sh [NSTUDENT] [DATASETS_DIR]
set -euo pipefail
nstudent=$(realpath "${1:-target/release/nstudent}")
data=$(realpath "${2:-../shared/datasets}")
cd "$(dirname "$0")/../fuzz"
rm -rf seeds && mkdir -p seeds/{idx,cifar,csv,files,image,model_file,study_toml,cell_json,metrics_table,score_csv,layouts}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# IDX: the header and first 8 images / labels of MNIST, raw.
head -c $((16 + 8 * 784)) < <(zcat "$data/mnist/train-images-idx3-ubyte.gz") > "$work/img"
printf '\x00\x00\x08\x03\x00\x00\x00\x08\x00\x00\x00\x1c\x00\x00\x00\x1c' | cat - <(tail -c +17 "$work/img") > seeds/idx/mnist-8-images
head -c 16 < <(zcat "$data/mnist/train-labels-idx1-ubyte.gz") > "$work/lab"
printf '\x00\x00\x08\x01\x00\x00\x00\x08' | cat - <(tail -c +9 "$work/lab") > seeds/idx/mnist-8-labels
# CIFAR: two records of the subset, for each member name (the first byte picks it).
for w in 0 1 2 3 4; do
  { printf "\\x0$w"; head -c $((2 * 3073)) "$data/cifar-10-subset/data_batch_1_first4000.bin"; } > "seeds/cifar/records-$w"
done
# CSV: 20 rows of the digits (label last, 0-16), under a few option bytes.
head -20 < <(zcat "$data/sklearn-digits/digits.csv.gz") > "$work/digits.csv"
for flags in 0 2 10 66; do
  { printf "\\x$(printf %02x $flags)"; cat "$work/digits.csv"; } > "seeds/csv/digits-$flags"
done
# Whole files: a gzip'd IDX pair, a gzip'd CSV, a zipped CSV (if zip is here).
gzip -c seeds/idx/mnist-8-images > "$work/i.gz"; gzip -c seeds/idx/mnist-8-labels > "$work/l.gz"
# The target reads the images file's length as two little-endian bytes.
n=$(stat -c %s "$work/i.gz")
{ printf '\x00'; printf "\\x$(printf %02x $((n % 256)))\\x$(printf %02x $((n / 256)))"; cat "$work/i.gz" "$work/l.gz"; } > seeds/files/idx-pair
{ printf '\x01'; gzip -c "$work/digits.csv"; } > seeds/files/csv-gz
if command -v zip >/dev/null; then
  (cd "$work" && zip -q d.zip digits.csv)
  { printf '\x02'; cat "$work/d.zip"; } > seeds/files/csv-zip
fi
# Images: one PNG-less JPEG of the JPEG copy (first byte picks the extension).
cats=("$data"/cifar-10-jpeg/test/cat/*)
{ printf '\x01'; cat "${cats[0]}"; } > seeds/image/cat-jpg
# A 28x28 model, for predict's CSVs below.
"$nstudent" train --data fashion-mnist-10k --algo baseline --epochs 1 --teacher-factor 0.01 \
  --out "$work/m.safetensors" >/dev/null 2>&1
# The fuzzer's inputs are at most 256 KB: an 8x8 model (the digits) fits, a 28x28 one does not.
"$nstudent" train --data "$data/sklearn-digits/digits.csv.gz" --label-column last --max-value 16 \
  --algo baseline --epochs 1 --out "$work/d.safetensors" >/dev/null 2>&1
{ printf '\x00'; cat "$work/d.safetensors"; } > seeds/model_file/baseline-8x8
printf '\x01{"members": 2}' > seeds/model_file/manifest
# Study configs: every preset, as printed.
for p in quick standard original seed; do
  "$nstudent" run --preset "$p" --print-config > "seeds/study_toml/$p.toml"
done
# A cell file, a metrics table and predict's CSVs from a one-cell study.
printf 'outer_folds = 2\n[training]\nepochs = 1\n' > "$work/s.toml"
(cd "$work" && "$nstudent" run --preset quick --config s.toml --out r --quiet --max-cells 2 --algorithms baseline,noisy-student >/dev/null 2>&1 || true)
cp "$(find "$work/r/cells" -name '*.json' | head -1)" seeds/cell_json/cell.json
(cd "$work" && "$nstudent" run --preset quick --config s.toml --out r2 --quiet --algorithms baseline >/dev/null 2>&1 || true)
cp "$work/r2/metrics_table.csv" seeds/metrics_table/table.csv
"$nstudent" predict --model "$work/m.safetensors" --data fashion-mnist-10k --out "$work/p.csv" --labels-out "$work/y.csv" >/dev/null 2>&1
{ head -6 "$work/y.csv"; printf '\x00'; head -6 "$work/p.csv"; } > seeds/score_csv/predict-output
# Other tools' tables: a wide one (first byte even) and a long one with folds (first byte 3).
printf '\x00dataset,A,B,C\nd1,0.5,0.6,0.7\nd2,0.4,0.6,0.5\nd3,0.3,0.35,0.5\nd4,0.8,0.9,0.85\n' > seeds/layouts/wide
printf '\x03dataset,algorithm,fold,value\nd1,A,1,0.5\nd1,A,2,0.6\nd1,B,1,0.7\nd1,B,2,0.4\nd2,A,1,0.1\nd2,A,2,0.2\nd2,B,1,0.3\nd2,B,2,0.9\nd3,A,1,0.5\nd3,A,2,0.5\nd3,B,1,0.6\nd3,B,2,0.6\n' > seeds/layouts/long-folds
du -sh seeds
