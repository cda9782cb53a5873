"""The suite is offline by force: with HF_HUB_OFFLINE=0 exported, loading a hub id attempts no
network connection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import socket

attempts = []


def refuse(self, address):
    attempts.append(str(address))
    raise OSError("network blocked by the test")


socket.socket.connect = refuse
import benchmark  # noqa: E402,F401  (forces offline mode)
from transformers import GPT2Model  # noqa: E402

try:
    GPT2Model.from_pretrained("gpt2")  # a hub id, and no local_files_only: only the environment stops it
except OSError:
    pass
print(len(attempts))
"""


def test_no_network_call_with_offline_exported_as_0(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0", "HF_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "0", result.stderr[-2000:]
