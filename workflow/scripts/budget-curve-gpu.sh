#!/usr/bin/env bash
# The rest of MORE-3S's budget curves (issue 25; experiments/budget_curve.py) on a CUDA device:
# every curve again from step 0 at STEPS_SCALE times the CPU study's steps (default 10), written
# to experiments/budget-curve-gpu/ as the same files the CPU study writes (curve.csv, curve.png,
# summary.md; the device is recorded in each row). First it prints the capacity plan's expected
# time for each curve (benchmark.plan, the same estimate `python -m benchmark plan` gives runs).
# Where torch sees no CUDA device it prints one line and exits 0. Resumable as the study is: a
# curve already in curve.csv is not trained again.
#
#   workflow/scripts/budget-curve-gpu.sh        (from anywhere)
#
# PYTHON: the interpreter with the project installed (default: the repository's .venv, else
# python3; a CUDA build of torch is needed, the pinned one is CPU-only). The GPU is the first of
# CUDA_VISIBLE_DEVICES (default 0). Exit status: 0 done or skipped, 2 the study failed.
set -euo pipefail

NAME=budget-curve-gpu
# shellcheck source=workflow/scripts/cuda-probe.sh
source "$(dirname "$0")/cuda-probe.sh"

gpu=${CUDA_VISIBLE_DEVICES:-0}
export CUDA_VISIBLE_DEVICES=${gpu%%,*}
study=(experiments/budget_curve.py --steps-scale "${STEPS_SCALE:-10}" --out experiments/budget-curve-gpu)
echo "budget-curve-gpu: $device (CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES); expected time:"
"$PYTHON" "${study[@]}" --plan
"$PYTHON" "${study[@]}" || exit 2
