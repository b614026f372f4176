#!/usr/bin/env bash
# The engine type-checked for a real non-x86 target (aarch64 Linux): the code every other CPU
# family compiles, with the x86-64 kernels out by target, not by flag. Slow on a cold cache
# (minutes), so it is not in CI; CI tests the same portable code with `--cfg nstudent_portable`.
# Fails, naming the reason, when rustup cannot add the target here (it downloads its standard
# library).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
  echo "aarch64-check: rustup cannot add aarch64-unknown-linux-gnu here (no network to its dist server?)" >&2
  exit 2
fi
cargo check -p nstudent-engine --target aarch64-unknown-linux-gnu --target-dir target/portable
echo "aarch64-check: nstudent-engine type-checks for aarch64-unknown-linux-gnu"
