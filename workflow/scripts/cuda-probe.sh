# Sourced by the GPU scripts (gpu-check.sh, budget-curve-gpu.sh) with NAME set to the script's
# name: finds PYTHON (default: the repository's .venv, else python3), moves to the repository
# root, and sets `device` to the CUDA device torch uses (workflow/scripts/gpu_check.py probe).
# Where torch sees none it prints "NAME: skipped: <why>" and exits 0; exit 2 if it cannot ask.

if [[ -z ${PYTHON:-} ]]; then
    PYTHON=python3
    [[ -x $(dirname "$0")/../../.venv/bin/python ]] && PYTHON=$(dirname "$0")/../../.venv/bin/python
fi
case $PYTHON in
/*) ;;
*/*) PYTHON=$PWD/$PYTHON ;; # a relative path, before the cd below
esac
cd "$(dirname "$0")/../.."

set +e
device=$("$PYTHON" workflow/scripts/gpu_check.py probe)
status=$?
set -e
if ((status == 3)); then
    echo "$NAME: skipped: $device"
    exit 0
fi
if ((status != 0)); then
    echo "$NAME: could not probe for a CUDA device with $PYTHON" >&2
    exit 2
fi
