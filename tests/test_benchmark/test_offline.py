"""The suite is offline by force: with HF_HUB_OFFLINE=0 exported, neither an entry point's
process (`runtime.configure()`) nor the suite's own weight loads (without it) attempt a network
connection; and importing `benchmark` changes no environment variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BLOCK_NETWORK = """
import socket

attempts = []


def refuse(self, address):
    attempts.append(str(address))
    raise OSError("network blocked by the test")


socket.socket.connect = refuse
"""

CONFIGURED_PROCESS = """
from benchmark import runtime

runtime.configure()
from transformers import GPT2Model

try:
    GPT2Model.from_pretrained("gpt2")  # a hub id, and no local_files_only: only the environment stops it
except OSError:
    pass
print(len(attempts))
"""

SUITE_LOADER = """
from more3s.model import ModelConfig, gpt2

config = ModelConfig(
    encoded_tokens=2, encoded_width=4, embed_size=8, num_layers=1, num_heads=1, max_timestep=4, dropout=0.0,
    action_size=2, discrete=True, rtg_mode="attention", memory=False, memory_batches=1, memory_width=2,
    gpt2_weights="gpt2",  # a hub id, not on this machine: random initialisation, recorded as "no"
)
print(gpt2(config)[1])
print(len(attempts))
"""


@pytest.mark.parametrize("probe", [CONFIGURED_PROCESS, SUITE_LOADER], ids=["entry-point", "suite-loader"])
def test_no_network_call_with_offline_exported_as_0(tmp_path: Path, probe: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0", "HF_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_NETWORK + probe], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "0", result.stderr[-2000:]
    if probe is SUITE_LOADER:
        assert lines[-2] == "no"


def test_importing_the_package_changes_no_environment_variable() -> None:
    probe = "import os; before = dict(os.environ); import benchmark.config; print(dict(os.environ) == before)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "True", result.stderr[-2000:]
