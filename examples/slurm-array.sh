#!/usr/bin/env bash
# A parameter sweep as a SLURM array job: each array task runs one shard of the grid, then one
# job merges the shards.  Shards are numbered 0 ≤ i < n; rfdyn reads SLURM_ARRAY_TASK_ID,
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT itself (so --array=0-7 and --array=1-8 both work),
# and a preempted task resumes where it stopped (--resume keeps the finished runs).
#
#   sbatch examples/slurm-array.sh                          # 8 shards
#   sbatch --dependency=afterok:<jobid> --wrap "npx rfdyn merge results/kurtosis/shard-* -o results/kurtosis"
#
#SBATCH --job-name=rfdyn-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --requeue
set -euo pipefail
MODEL=${MODEL:-models/lsg24-kurtosis-ode.json}
OUT=results/kurtosis/shard-${SLURM_ARRAY_TASK_ID}
# SIGTERM (preemption, scancel) stops the run within about a second with its finished runs saved;
# the requeued task picks them up with --resume.
npx rfdyn sweep "$MODEL" -j "${SLURM_CPUS_PER_TASK:-1}" -o "$OUT" --resume
