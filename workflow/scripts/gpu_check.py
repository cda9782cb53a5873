"""The GPU check's two halves (workflow/scripts/gpu-check.sh runs them):

    gpu_check.py probe                        the CUDA device torch uses here (exit 0), or why none (exit 3)
    gpu_check.py compare GPU_WORKDIR CPU_WORKDIR

`compare` reads two smoke-preset workdirs (the GPU run's and the CPU run's, `resources/smoke` of
each project copy) and checks that every run of the GPU side recorded a CUDA device and its name in
`execution` (config.json, benchmark.device), that every run of the CPU side recorded `cpu:0`, that
both have the same runs, and that each run's first train_log.csv row (the mean losses of its first
`eval_every` steps) agrees loss by loss: |gpu - cpu| <= ATOL + RTOL * |cpu|. One line per run, then
PASS or FAIL; exit 1 on any failure.

The tolerance: a GPU run is not bit-identical to the CPU's. cuDNN convolutions run in TF32 (torch's
default, ~1e-3 relative per operation), the random draws of dropout (DT, MORE-3S) and of SAC's
sampled actions (CQL on MuJoCo) come from the CUDA generator, not the CPU's, and sums are reduced in
another order; over ten steps' mean these move the losses by a few percent at most. A device bug
(a module, scaler or input left on the other device or in another dtype, data fed unscaled) moves
them by far more than 10%. Not yet calibrated on a GPU: the first run's differences say how tight
it could be.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from benchmark import paths

RTOL = 0.10
ATOL = 0.02  # losses near 0 (e.g. a temperature loss) compare by absolute difference
NO_DEVICE = 3  # probe's exit status when torch sees no CUDA device


def probe() -> int:
    import torch

    if not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "a CPU-only build"
        print(f"torch {torch.__version__} ({build}) sees no CUDA device")
        return NO_DEVICE
    print(torch.cuda.get_device_name(0))
    return 0


def runs(workdir: Path) -> dict[str, Path]:
    """Run id -> run folder, for every run of a workdir that wrote its config.json."""
    root = workdir / "results" / "runs"
    return {str(path.parent.relative_to(root)): path.parent for path in sorted(root.glob(f"**/{paths.RUN_CONFIG}"))}


def first_losses(run_dir: Path) -> dict[str, float]:
    """The first train_log.csv row's losses: `loss` and every `*_loss` column."""
    log = pd.read_csv(run_dir / paths.TRAIN_LOG)
    losses = [column for column in log.columns if column == "loss" or column.endswith("_loss")]
    return {column: float(log[column].iloc[0]) for column in losses}


def check(gpu_workdir: Path, cpu_workdir: Path) -> tuple[list[str], list[str]]:
    """(report lines, failures) of the comparison described above."""
    gpu, cpu = runs(gpu_workdir), runs(cpu_workdir)
    lines: list[str] = []
    failures: list[str] = []
    if not gpu:
        failures.append(f"{gpu_workdir}: no runs (results/runs/**/{paths.RUN_CONFIG})")
    if gpu.keys() != cpu.keys():
        only_gpu, only_cpu = sorted(gpu.keys() - cpu.keys()), sorted(cpu.keys() - gpu.keys())
        failures.append(f"runs differ: only on the GPU {only_gpu}, only on the CPU {only_cpu}")
    for run in sorted(gpu.keys() & cpu.keys()):
        gpu_execution = json.loads((gpu[run] / paths.RUN_CONFIG).read_text())["execution"]
        cpu_execution = json.loads((cpu[run] / paths.RUN_CONFIG).read_text())["execution"]
        device, gpu_name = gpu_execution["device"], gpu_execution["gpu"]
        if not (str(device).startswith("cuda") and gpu_name):
            failures.append(f"{run}: the GPU run recorded device {device!r}, gpu {gpu_name!r}")
        if cpu_execution["device"] != "cpu:0":
            failures.append(f"{run}: the CPU run recorded device {cpu_execution['device']!r}")
        on_gpu, on_cpu = first_losses(gpu[run]), first_losses(cpu[run])
        if not on_cpu or on_gpu.keys() != on_cpu.keys():
            failures.append(f"{run}: loss columns differ or are missing: GPU {sorted(on_gpu)}, CPU {sorted(on_cpu)}")
            continue
        parts = []
        for name, expected in on_cpu.items():
            actual = on_gpu[name]
            parts.append(f"{name} {actual:.4g} vs {expected:.4g}")
            if not abs(actual - expected) <= ATOL + RTOL * abs(expected):  # `not <=`: NaN fails
                failures.append(f"{run}: {name} {actual:.6g} on the GPU, {expected:.6g} on the CPU")
        lines.append(f"{run} ({gpu_name}): {', '.join(parts)}")
    return lines, failures


def main(argv: list[str]) -> int:
    if argv == ["probe"]:
        return probe()
    if len(argv) == 3 and argv[0] == "compare":
        lines, failures = check(Path(argv[1]), Path(argv[2]))
        for line in [*lines, *(f"FAIL {failure}" for failure in failures)]:
            print(line)
        print(f"gpu-check: {'FAIL' if failures else 'PASS'}: {len(lines)} runs, losses within {RTOL:.0%} + {ATOL}")
        return 1 if failures else 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
