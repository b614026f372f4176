#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU: builds the burn engine with wgpu (Vulkan; the
# `cuda` feature needs internet access while compiling, see docs/gpu.md), then reports in
# under 10 minutes on a 16-core machine:
#   1. parity with the native engine from the same weights (scripts/gpu-check.sh's check);
#   2. throughput of the GPU and of the CPU engine: training at batch 32 and 128, inference at
#      batch 1024, for 28x28x1 and 32x32x3 (`nstudent bench`);
#   3. one `standard`-preset cell (Noisy Student, fold 1, on the embedded Fashion-MNIST test
#      split), timed on the GPU against the CPU, with both accuracies.
# Usage: scripts/device-check.sh          (NSTUDENT_BURN_DEVICE=wgpu; set it to cuda for a cuda build)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "nvidia-smi: not found"
ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null || true
export NSTUDENT_BURN_DEVICE=${NSTUDENT_BURN_DEVICE:-wgpu}

echo "== 1. parity (scripts/gpu-check.sh)"
scripts/gpu-check.sh 1
bin=target/wgpu/release/nstudent

echo "== 2. throughput: burn on $NSTUDENT_BURN_DEVICE, then native on the CPU"
"$bin" bench --engine burn --repeats 3 --seconds 1
"$bin" bench --engine native --repeats 3 --seconds 1

echo "== 3. one standard-preset cell, GPU against CPU"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for engine in burn native; do
  start=$(date +%s.%N)
  "$bin" run --preset standard --tasks fashion-mnist-10k --algorithms noisy-student \
    --max-cells 1 --engine "$engine" --out "$tmp/$engine" --quiet >/dev/null
  wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  acc=$(grep -o '"accuracy": *[0-9.]*' "$tmp/$engine"/cells/*/1/noisy-student.json | head -1)
  echo "$engine: cell wall time $wall s, $acc"
done
