#!/usr/bin/env bash
# The portable kernels under Miri (undefined behaviour, out-of-bounds and aliasing checks) on
# small shapes: the engine built with the x86-64 kernels compiled out, so that every loop and
# `matrixmultiply`'s product (its portable kernel under Miri) run in the interpreter; the
# step scheduler's tests (threads publishing and waiting), checked for data races; and a
# whole fit whose steps two threads share, against the same fit on one thread, bit for bit.
#   scripts/miri.sh            (needs a nightly toolchain with the miri component; 10 min here once built)
set -euo pipefail
cd "$(dirname "$0")/.."
rustup +nightly component add miri rust-src >/dev/null 2>&1 || true
export MIRIFLAGS="${MIRIFLAGS:-} --cfg nstudent_portable"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg nstudent_portable"
cargo +nightly miri test -p nstudent-engine --lib --target-dir target/miri -- \
  native::kernels::tests::portable_kernels_on_small_shapes \
  native::derived_seeds_are_pinned \
  native::schedule::tests
# The two-thread fit, under three settings it needs:
# - Tree Borrows: rayon's crossbeam-epoch (the helpers' pool) is not Stacked-Borrows-clean;
# - deterministic floats: by default Miri adds random rounding errors to operations that IEEE
#   does not require exact (exp, among others), so that even two one-thread fits of the
#   same seed differ under it (measured) and no comparison of bits would mean anything;
# - leaks ignored: the helpers' pool lives in a thread-local that outlives the test.
MIRIFLAGS="$MIRIFLAGS -Zmiri-tree-borrows -Zmiri-deterministic-floats -Zmiri-ignore-leaks" \
  cargo +nightly miri test -p nstudent-engine --lib --target-dir target/miri -- \
  native::tests::a_step_shared_by_two_threads_gives_one_threads_bits
