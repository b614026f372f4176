#!/usr/bin/env bash
# Runs the PyTorch reference and then `nstudent bench` with the same threads, back to back,
# and prints nstudent's figures with their ratio to PyTorch's.
#   bench/compare.sh [THREADS] [PYTHON] [NSTUDENT]
set -euo pipefail
threads="${1:-2}"
python="${2:-python3}"
nstudent="${3:-target/release/nstudent}"
here="$(cd "$(dirname "$0")" && pwd)"
ref="$(mktemp)"
trap 'rm -f "$ref"' EXIT
"$python" "$here/pytorch_reference.py" --threads "$threads" --json | tee "$ref"
"$nstudent" bench --threads "$threads" --reference "$ref"
