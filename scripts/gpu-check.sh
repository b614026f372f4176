#!/usr/bin/env bash
# The burn engine on a real Vulkan driver: train, predict, parity with the native engine from
# the same weights, and throughput. With no GPU it runs on Mesa's lavapipe, a software Vulkan
# 1.3 driver for the CPU (Debian: `apt-get install mesa-vulkan-drivers`), which exercises the
# same wgpu code path as an AMD, Intel or NVIDIA Vulkan driver.
#
# Usage: scripts/gpu-check.sh [TRAIN_EPOCHS]     (about 15 minutes to build, 2-3 to run on 2 cores)
# Exit status: 0 when the burn engine's probabilities match the native engine's to 1e-4.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-1}
tol=1e-4
if command -v vulkaninfo >/dev/null; then
  vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName|apiVersion" | sort -u || true
fi
cargo build --release -p nstudent --features wgpu --target-dir target/wgpu
bin=target/wgpu/release/nstudent
export NSTUDENT_BURN_DEVICE=wgpu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=fashion-mnist-10k # embedded: nothing to download

echo "== train: $data, baseline, $epochs epoch(s), --engine burn on wgpu"
start=$(date +%s.%N)
"$bin" train --data "$data" --algo baseline --epochs "$epochs" --engine burn --out "$tmp/m.safetensors"
echo "train wall time: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

echo "== predict with both engines from the same weights"
"$bin" predict --model "$tmp/m.safetensors" --data "$data" --engine burn --out "$tmp/burn.csv" --labels-out "$tmp/y.csv"
"$bin" predict --model "$tmp/m.safetensors" --data "$data" --engine native --out "$tmp/native.csv"
"$bin" score --labels "$tmp/y.csv" --proba "$tmp/burn.csv" | grep -i accuracy
max=$(paste -d, "$tmp/burn.csv" "$tmp/native.csv" | awk -F, 'NR > 1 {
  k = NF / 2
  for (i = 1; i <= k; i++) { d = $i - $(i + k); if (d < 0) d = -d; if (d > m) m = d }
} END { printf "%.3g", m }')
rows=$(($(wc -l < "$tmp/burn.csv") - 1))
echo "parity: max |p_burn - p_native| = $max over $rows images x 10 classes (tolerance $tol)"

echo "== bench --engine burn"
"$bin" bench --engine burn --repeats 1 --seconds 2

awk -v m="$max" -v t="$tol" 'BEGIN { exit !(m <= t) }' || { echo "FAIL: parity above $tol"; exit 1; }
echo "OK"
