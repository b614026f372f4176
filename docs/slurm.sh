#!/bin/bash
# Run an nstudent study as a Slurm job array: each array task runs one shard of the cells
# (cells whose index % SLURM_ARRAY_TASK_COUNT == shard), all writing into the same results
# directory on a shared file system. The last shard to finish merges the table, statistics
# and report; `nstudent status DIR` shows what is missing, `nstudent merge DIR` merges by hand.
#
# Submit:   sbatch docs/slurm.sh
# Resume:   submit again; finished cells are skipped.
#
#SBATCH --job-name=nstudent
#SBATCH --array=0-19            # 20 shards; nstudent reads SLURM_ARRAY_TASK_ID/COUNT
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=24:00:00
#SBATCH --output=nstudent-%A_%a.out
#SBATCH --requeue               # a preempted shard reruns and resumes its cells

set -euo pipefail

RESULTS=${RESULTS:-$HOME/nstudent-results/original}
export NSTUDENT_DATA=${NSTUDENT_DATA:-$HOME/nstudent-data}   # run `nstudent data fetch` first

# Every shard must use the same config and seed; the thread count is part of what makes
# results bit-reproducible, so keep it fixed too.
srun nstudent run --preset original --out "$RESULTS" \
    --threads "$SLURM_CPUS_PER_TASK" --seed 1 --quiet
