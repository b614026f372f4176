#!/usr/bin/env bash
# The portable kernels under Miri (undefined behaviour, out-of-bounds and aliasing checks) on
# small shapes: the engine built with the x86-64 kernels compiled out, so that every loop and
# `matrixmultiply`'s product (its portable kernel under Miri) run in the interpreter; and the
# step scheduler's tests (threads publishing and waiting), checked for data races.
#   scripts/miri.sh            (needs a nightly toolchain with the miri component)
set -euo pipefail
cd "$(dirname "$0")/.."
rustup +nightly component add miri rust-src >/dev/null 2>&1 || true
export MIRIFLAGS="${MIRIFLAGS:-} --cfg nstudent_portable"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg nstudent_portable"
cargo +nightly miri test -p nstudent-engine --lib --target-dir target/miri -- \
  native::kernels::tests::portable_kernels_on_small_shapes \
  native::derived_seeds_are_pinned \
  native::schedule::tests
