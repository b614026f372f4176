#!/usr/bin/env bash
# Fuzzes every parser of outside input (fuzz/fuzz_targets/*.rs) with libFuzzer.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 600 seconds, all targets)
#
# With the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`) the targets are built
# by `cargo fuzz` with AddressSanitizer. Without them (CI machines have one stable toolchain),
# or with NSTUDENT_FUZZ_MODE=stable, they are built by stable cargo with the same coverage
# instrumentation and no sanitizer, into target/fuzz-stable (runs of up to 60 s a target: at
# opt-level 1, into target/fuzz-stable-quick).
#
# Each corpus starts from real files (fuzz/seeds/<target>/, committed, made by
# scripts/fuzz-seeds.sh) and grows in fuzz/corpus/<target>/ (not committed). A single
# allocation over 64 MB (nstudent_fuzz::MALLOC_LIMIT) or 2 GB of memory in all counts as a
# finding: a parser must bound what it allocates by its input's size. Findings land in
# fuzz/artifacts/<target>/ and stop that target; once fixed, one is copied into
# fuzz/regressions/<target>/ (committed), which every run, and the stable test
# fuzz/tests/replay.rs, replay. Prints a line per target: executions, seconds fuzzed, corpus
# size, findings. Exits 1 if any target found something.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
shift || true
mode=${NSTUDENT_FUZZ_MODE:-}
if [ -z "$mode" ]; then
  if cargo +nightly fuzz --version >/dev/null 2>&1; then mode=cargo-fuzz; else mode=stable; fi
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^nstudent-fuzz$')
fi
host=$(rustc -vV | sed -n 's/^host: //p')
if [ "$mode" = stable ]; then
  # What cargo fuzz passes to rustc, less the sanitizer; --target keeps these flags off build
  # scripts and proc macros.
  export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
  dir=../target/fuzz-stable
  if [ "$seconds" -le 60 ]; then
    # A short run (CI's 10 s a target) is mostly its build: at opt-level 1 without debug
    # info it took 2m49s here against 4m19s, and `layouts` still ran 24,188 inputs in 10 s
    # (29,810 in 11 s at opt-level 3).
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0
    dir=../target/fuzz-stable-quick
  fi
  cargo build --release --target "$host" --target-dir "$dir" --bins || exit 2
  bin=$dir/$host/release
else
  cargo +nightly fuzz build || exit 2
  bin=target/$host/release
fi
echo "fuzzing ${#targets[@]} targets for $seconds s each ($mode build)"
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t"
  log=$(mktemp)
  start=$SECONDS
  "$bin/$t" "corpus/$t" "seeds/$t" "regressions/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=64 -max_len=262144 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  findings=$(find "artifacts/$t" -type f | wc -l)
  echo "$t: ${execs:-?} executions in $((SECONDS - start)) s, corpus $(ls "corpus/$t" | wc -l) inputs, $findings findings (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -m5 -E 'panicked|ERROR|SUMMARY|memory allocation' "$log"
  fi
  rm -f "$log"
done
exit $status
