#!/bin/bash
# Run an nstudent study as a Slurm job array of workers: every array task is an `nstudent run
# --worker` on the same results directory (a shared file system). Workers claim cells one at a
# time, costliest first, so they balance the load themselves (an ensemble cell costs hundreds
# of trainings, a baseline cell one); a worker whose node dies leaves a claim whose heartbeat
# stops, and another worker takes the cell over after --claim-timeout, resuming its checkpoint.
# The last worker to finish merges the table, statistics and report; `nstudent status DIR`
# shows what is missing, `nstudent merge DIR` merges by hand.
#
# Submit:   sbatch docs/slurm.sh
# Resume:   submit again; finished cells are skipped.
#
#SBATCH --job-name=nstudent
#SBATCH --array=0-19            # 20 workers, each taking cells until none is left
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=24:00:00
#SBATCH --output=nstudent-%A_%a.out
#SBATCH --requeue               # a preempted worker reruns; its cell resumes from its checkpoint

set -euo pipefail

RESULTS=${RESULTS:-$HOME/nstudent-results/original}
export NSTUDENT_DATA=${NSTUDENT_DATA:-$HOME/nstudent-data}   # run `nstudent data fetch` first

# Every worker must use the same config and seed. The thread count is a speed setting only:
# workers with different --threads give the same bits. (Without --worker, each array task runs
# the static shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT instead.)
# The study: a preset, or a config file (CONFIG=study.toml) whose missing keys take the preset's.
STUDY=(--preset "${PRESET:-original}")
if [ -n "${CONFIG:-}" ]; then STUDY+=(--config "$CONFIG"); fi

srun nstudent run "${STUDY[@]}" --out "$RESULTS" --worker \
    --threads "$SLURM_CPUS_PER_TASK" --seed 1 --quiet
