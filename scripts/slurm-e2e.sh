#!/usr/bin/env bash
# End-to-end check of docs/slurm.sh on a real one-node Slurm cluster on this machine:
#
#  1. installs Debian's slurm-wlm and munge (when missing; needs root and the package registry);
#  2. writes a one-node slurm.conf for localhost with this machine's CPUs and memory;
#  3. starts munged, slurmctld and slurmd;
#  4. submits docs/slurm.sh as a real array job of 3 workers on a small study (scikit-learn's
#     digits 0-4 and 5-9, 3 outer folds, a 2-candidate inner search);
#  5. waits, then checks that the merged table equals a single-process run's, apart from the
#     time columns, and that every cell was computed once;
#  6. stops the daemons it started (by pid) and removes its files.
#
# Usage (as root): scripts/slurm-e2e.sh [NSTUDENT] [DATASETS_DIR]
#   defaults: target/release/nstudent, ../shared/datasets. About a minute.
# Run it after every change to docs/slurm.sh or to the runner (docs/cluster.md).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
nstudent=$(realpath "${1:-$repo/target/release/nstudent}")
data=$(realpath "${2:-$repo/../shared/datasets}")
[ "$(id -u)" = 0 ] || { echo "slurm-e2e: run as root (it starts munged, slurmctld, slurmd)" >&2; exit 2; }
[ -x "$nstudent" ] || { echo "slurm-e2e: no $nstudent; cargo build --release first" >&2; exit 2; }
[ -d "$data/sklearn-digits" ] || { echo "slurm-e2e: no $data/sklearn-digits" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi

work=$(mktemp -d /tmp/nstudent-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# munge: its key, run and log folders, owned by the munge user.
mkdir -p "$work/munge/run" "$work/munge/log" "$work/munge/lib"
chmod 755 "$work/munge"
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
cp /etc/munge/munge.key "$work/munge/munge.key"
chown -R munge:munge "$work/munge"
chmod 755 "$work/munge/run"
chmod 700 "$work/munge/lib"
chmod 400 "$work/munge/munge.key"
socket="$work/munge/run/munge.socket.2"
runuser -u munge -- /usr/sbin/munged --key-file="$work/munge/munge.key" \
  --socket="$socket" --pid-file="$work/munge/run/munged.pid" \
  --log-file="$work/munge/log/munged.log" --seed-file="$work/munge/lib/munged.seed"
for _ in $(seq 50); do [ -s "$work/munge/run/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/run/munged.pid")")

# A one-node cluster: this host, every CPU, most of the memory.
node=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 8 / 10 ))
mkdir -p "$work/spool/ctld" "$work/spool/d"
cat > "$work/slurm.conf" <<CONF
ClusterName=nstudent-e2e
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=e2e Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$work/slurmctld.pid" ] && [ -s "$work/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmctld.pid")" "$(cat "$work/slurmd.pid")")
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed)' && break
  sleep 0.2
done
sinfo

# The study: small, with an inner search so that cells checkpoint.
cat > "$work/study.toml" <<TOML
seed = 1
tasks = ["sklearn-digits:0-4", "sklearn-digits:5-9"]
outer_folds = 3
inner_folds = 2
[space]
unl_factor = [0.2]
threshold = [0.4, 0.7]
num_students = [1, 2]
ensemble_size = [2]
[training]
epochs = 3
[pseudo]
labeled_split = "stratified"
unlabeled = "all"
[execution]
data_dir = "$data"
TOML
"$nstudent" run --config "$work/study.toml" --out "$work/single" --quiet --threads 1 >/dev/null

# docs/slurm.sh as it is, with the array, resources and study given on the command line.
export PATH="$(dirname "$nstudent"):$PATH" RESULTS="$work/slurm" CONFIG="$work/study.toml"
job=$(sbatch --parsable --array=0-2 --cpus-per-task=1 --mem=1G --time=10 \
  --output="$work/slurm-%A_%a.out" "$repo/docs/slurm.sh")
echo "submitted job $job (3 workers)"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h -j "$job")" ] || { echo "slurm-e2e: job $job did not finish in 10 minutes" >&2; exit 1; }
cat "$work"/slurm-*.out

strip() { # the table without its two time columns
  awk -F, 'BEGIN{OFS=","} {NF=NF-2; print}' "$1"
}
[ -f "$work/slurm/metrics_table.csv" ] || { echo "slurm-e2e: the last worker did not merge" >&2; exit 1; }
if ! diff <(strip "$work/single/metrics_table.csv") <(strip "$work/slurm/metrics_table.csv"); then
  echo "slurm-e2e: FAILED: the array job's table differs from the single process's" >&2
  exit 1
fi
cells=$(grep -c '] done: ' "$work/slurm/nstudent.log")
expected=$(($(wc -l < "$work/single/metrics_table.csv") - 1))
[ "$cells" -eq "$expected" ] || { echo "slurm-e2e: FAILED: $cells cells computed, $expected in the study" >&2; exit 1; }
workers=$(grep -o '\[[0-9]*\] done: ' "$work/slurm/nstudent.log" | sort -u -t']' -k1,1 | wc -l)
echo "slurm-e2e: OK: job $job, 3 workers ($workers of them computed cells), $cells cells each computed once; the merged table equals the single process's apart from the time columns"
