#!/usr/bin/env bash
# The GPU check: the smoke preset (config/smoke.yaml) on a CUDA device, in a temp copy of the
# project; its training stages again on the CPU, in another copy; then workflow/scripts/gpu_check.py
# checks that every training job recorded the GPU and that each run's first losses agree with the
# CPU's (its docstring says within what, and why). Where torch sees no CUDA device it prints one
# line and exits 0.
#
#   workflow/scripts/gpu-check.sh        (from anywhere)
#
# PYTHON: the interpreter with the project installed (default: the repository's .venv, else python3;
# a CUDA build of torch is needed, the pinned one is CPU-only). The GPU is the first of
# CUDA_VISIBLE_DEVICES (default 0). Exit status: 0 passed or skipped, 1 a check failed, 2 a run
# failed (the end of its log on stderr). The copies are removed when the check passes, kept otherwise.
set -euo pipefail

NAME=gpu-check
# shellcheck source=workflow/scripts/cuda-probe.sh
source "$(dirname "$0")/cuda-probe.sh"
repo=$PWD
helper=$repo/workflow/scripts/gpu_check.py

gpu=${CUDA_VISIBLE_DEVICES:-0}
gpu=${gpu%%,*}
work=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
project=(Snakefile profiles benchmark baselines more3s workflow config pyproject.toml environment.yml) # tests/conftest.py PROJECT
echo "gpu-check: $device (CUDA_VISIBLE_DEVICES=$gpu), copies under $work"

# smoke SIDE DEVICES [snakemake arguments]: the smoke preset in the copy $work/SIDE, with CUDA_VISIBLE_DEVICES=DEVICES
smoke() {
    local side=$1 devices=$2
    shift 2
    mkdir "$work/$side"
    cp -R "${project[@]/#/$repo/}" "$work/$side/"
    echo "gpu-check: smoke preset, $side side ($work/$side.log)"
    if ! (cd "$work/$side" && CUDA_VISIBLE_DEVICES=$devices PYTHONPATH=$work/$side \
        "$PYTHON" -m snakemake --cores "$(nproc)" all --configfile config/smoke.yaml "$@") >"$work/$side.log" 2>&1; then
        echo "gpu-check: the $side run failed; the end of $work/$side.log:" >&2
        tail -n 40 "$work/$side.log" >&2
        exit 2
    fi
}

smoke gpu "$gpu"
smoke cpu "" --until train # the CPU side only needs the training logs
if "$PYTHON" "$helper" compare "$work/gpu/resources/smoke" "$work/cpu/resources/smoke"; then
    rm -rf "$work"
else
    echo "gpu-check: the runs are kept under $work" >&2
    exit 1
fi
