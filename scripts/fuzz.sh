#!/usr/bin/env bash
# Fuzzes every parser of outside input (fuzz/fuzz_targets/*.rs) with cargo-fuzz and libFuzzer.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 600 seconds, all targets)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Each corpus starts
# from real files (fuzz/seeds/<target>/, committed, made by scripts/fuzz-seeds.sh) and grows in
# fuzz/corpus/<target>/ (not committed). An input over 64 MB of allocation or 2 GB of memory
# counts as a finding: a parser must bound what it allocates by its input's size. Findings
# land in fuzz/artifacts/<target>/; a fixed one is copied into fuzz/seeds/<target>/ so that it
# is replayed from then on. Prints a line per target: executions, corpus size, findings.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=64 -max_len=262144 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  findings=$(find "artifacts/$t" -type f | wc -l)
  echo "$t: ${execs:-?} executions in ${seconds} s, corpus $(ls "corpus/$t" | wc -l) inputs, $findings findings (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -m5 -E 'panicked|ERROR|SUMMARY' "$log"
  fi
  rm -f "$log"
done
exit $status
