#!/usr/bin/env bash
# Makespan of 3 workers sharing one results directory (`run --worker`, costliest cells first)
# against 3 static shards (`run --shard 0/3, 1/3, 2/3`, cells by index modulo 3), on the quick
# preset, one thread and one cell at a time per process. Prints when each process ended and
# the makespan of each way, then checks that both tables equal a single-process run's apart
# from the time columns.
#
# Usage: scripts/makespan.sh [NSTUDENT] [PRESET]   (defaults: target/release/nstudent, quick)
# About 30 minutes on 2 cores for the quick preset; run it on an otherwise idle machine.
set -euo pipefail
nstudent=$(realpath "${1:-target/release/nstudent}")
preset=${2:-quick}
work=$(mktemp -d /tmp/nstudent-makespan.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
common=(run --preset "$preset" --threads 1 --jobs 1 --quiet)

# Runs the three processes named by the arguments' flags, printing each one's end time.
three() {
  local label=$1 dir=$2
  shift 2
  local t0 pids=()
  t0=$(date +%s.%N)
  for i in 0 1 2; do
    (
      # shellcheck disable=SC2046
      "$nstudent" "${common[@]}" --out "$dir" $(printf -- "$*" "$i") > "$label-$i.log" 2>&1
      echo "$label process $i ended after $(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f') s"
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  echo "$label makespan: $(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f') s"
}

three workers "$work/workers" "--worker"
three shards "$work/shards" "--shard %d/3"
"$nstudent" merge "$work/shards" > /dev/null
"$nstudent" "${common[@]}" --out "$work/single" > single.log 2>&1

# The table without its two time columns (training and inference seconds).
strip() { python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
drop = {i for i, h in enumerate(rows[0]) if "time" in h.lower() or "second" in h.lower()}
for r in rows:
    print(",".join(v for i, v in enumerate(r) if i not in drop))
' "$1/metrics_table.csv"; }
for way in workers shards; do
  if diff <(strip "$work/single") <(strip "$work/$way") > /dev/null; then
    echo "$way: table identical to a single process's, apart from the time columns"
  else
    echo "$way: TABLE DIFFERS from a single process's" && exit 1
  fi
done
# Every cell computed once: cells trained, as the logs count them.
for way in workers shards; do
  echo "$way: $(find "$work/$way/cells" -name '*.json' ! -name '*.partial.json' | wc -l) cell files"
done
