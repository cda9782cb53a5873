"""Where a job runs: the torch device it was given, recorded in the run's config.json."""

from __future__ import annotations

import os
from typing import Any

import torch


def torch_device() -> str:
    """`cuda:0` when this job was given a GPU (CUDA_VISIBLE_DEVICES names one and CUDA works), else `cpu:0`.

    Snakemake does not hand out GPUs; the scheduler does (SLURM sets CUDA_VISIBLE_DEVICES for the
    `--gpus` a job asked for), and `cuda:0` is the first device it gave. A job given none stays on
    the CPU even where GPUs are visible, so CPU presets give the same numbers on every machine.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES", "").strip() and torch.cuda.is_available():
        return "cuda:0"
    return "cpu:0"


def record() -> dict[str, Any]:
    """The run's `execution` record: device, GPU model, the GPUs given, SLURM job id (None outside SLURM)."""
    device = torch_device()
    return {
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
