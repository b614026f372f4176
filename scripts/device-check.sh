#!/usr/bin/env bash
# The first run on a machine with an NVIDIA GPU, through the bundle of scripts/gpu-bundle.sh, so
# that the GPU machine needs no network, no cargo and no compiler. It reports, in under 8 minutes
# on a 16-core machine with one GPU (details: scripts/run-gpu-check.sh, docs/gpu.md):
#   1. the GPU, its driver and the backend that ran (CUDA or wgpu/Vulkan);
#   2. parity with the native engine from the same weights (max |dp| <= 1e-4);
#   3. `nstudent bench` of the burn engine and of the native engine;
#   4. one `standard`-preset Noisy Student cell on the GPU and on the CPU: wall times, accuracies
#      and their ratio.
# into OUTDIR/summary.json and OUTDIR/logs/.
#
# Usage: scripts/device-check.sh [OUTDIR]               build target/gpu-bundle/nstudent-gpu when it
#                                                       is absent or from another commit, then run it
#        scripts/device-check.sh --bundle DIR [OUTDIR]  run a bundle built elsewhere (a login node)
# OUTDIR defaults to target/device-check/HOST-TIME.
set -euo pipefail
usage="usage: scripts/device-check.sh [--bundle DIR] [OUTDIR]"
cd "$(dirname "$0")/.."
bundle=""
if [ "${1:-}" = --bundle ]; then
  [ $# -ge 2 ] && [ -n "$2" ] || { echo "$usage" >&2; exit 2; }
  bundle=$2
  shift 2
fi
case "${1:-}" in
-h | --help) echo "$usage"; exit 0 ;;
-*) echo "$usage" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "$usage" >&2; exit 2; }
out=${1:-target/device-check/$(uname -n)-$(date -u +%Y%m%dT%H%M%SZ)}

if [ -z "$bundle" ]; then
  bundle=target/gpu-bundle/nstudent-gpu
  head=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  built=$(sed -n 's/^commit=//p' "$bundle/bundle.txt" 2>/dev/null || true)
  if [ ! -x "$bundle/run-gpu-check" ] || [ "$built" != "$head" ]; then
    if ! command -v cargo >/dev/null; then
      echo "device-check: no bundle for commit $head and no cargo here; build it on a machine with cargo (scripts/gpu-bundle.sh), copy it, and run scripts/device-check.sh --bundle DIR" >&2
      exit 2
    fi
    scripts/gpu-bundle.sh "$bundle"
  fi
fi
[ -x "$bundle/run-gpu-check" ] || {
  echo "device-check: $bundle/run-gpu-check is missing; give a folder built by scripts/gpu-bundle.sh" >&2
  exit 2
}
exec "$bundle/run-gpu-check" "$out"
