"""A job's torch device: the GPU its scheduler gave it, else the CPU; recorded with the SLURM job id."""

from __future__ import annotations

import pytest
import torch

from benchmark import device


@pytest.mark.parametrize(
    ("visible", "cuda_works", "expected"),
    [
        (None, True, "cpu:0"),  # GPUs on the machine, none given to this job
        ("", True, "cpu:0"),
        ("0", True, "cuda:0"),
        ("GPU-5f2c", True, "cuda:0"),  # SLURM may name GPUs by UUID
        ("0", False, "cpu:0"),  # given one, but no CUDA (CPU build of torch, no driver)
    ],
)
def test_the_device_is_the_gpu_given_else_the_cpu(
    monkeypatch: pytest.MonkeyPatch, visible: str | None, cuda_works: bool, expected: str
) -> None:
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_works)
    assert device.torch_device() == expected


def test_record_names_the_slurm_job_and_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert device.record() == {"device": "cpu:0", "gpu": None, "cuda_visible_devices": None, "slurm_job_id": "4242"}
    monkeypatch.delenv("SLURM_JOB_ID")
    assert device.record()["slurm_job_id"] is None
