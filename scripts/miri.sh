#!/usr/bin/env bash
# The portable kernels under Miri (undefined behaviour, out-of-bounds and aliasing checks) on
# small shapes: the engine built with the x86-64 kernels compiled out, so that every loop and
# `matrixmultiply`'s product (its portable kernel under Miri) run in the interpreter.
# Also the step scheduler's tests and a small fit on 2 threads, checked for data races.
#   scripts/miri.sh            (needs a nightly toolchain with the miri component)
set -euo pipefail
cd "$(dirname "$0")/.."
rustup +nightly component add miri rust-src >/dev/null 2>&1 || true
# Two CPUs, so that a fit starts its helper thread. Tree Borrows, not Stacked Borrows: rayon's
# crossbeam-epoch breaks a Stacked Borrows rule in its own code (its list of threads) as soon as
# a pool thread runs; Tree Borrows, the aliasing model Miri is moving to, accepts it.
export MIRIFLAGS="${MIRIFLAGS:-} --cfg nstudent_portable -Zmiri-num-cpus=2 -Zmiri-tree-borrows"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg nstudent_portable"
cargo +nightly miri test -p nstudent-engine --lib --target-dir target/miri -- \
  native::kernels::tests::portable_kernels_on_small_shapes \
  native::derived_seeds_are_pinned \
  native::schedule::tests \
  native::tests::a_step_shared_by_two_threads_gives_one_threads_bits
