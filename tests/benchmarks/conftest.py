"""Shared by the benchmarks: one torch thread (the suite's setting), and each benchmark's numbers
against its reference, kept in the saved run (`benchmark.extra_info`) and listed at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

_SUMMARY: list[str] = []


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def record(benchmark: Any, request: pytest.FixtureRequest) -> Callable[[str, float, str], None]:
    """record(name, value, unit): into the benchmark's extra_info and the end-of-run summary."""

    def add(name: str, value: float, unit: str = "") -> None:
        benchmark.extra_info[name] = round(value, 4)
        _SUMMARY.append(f"{request.node.name}: {name} = {value:.4g}{' ' + unit if unit else ''}")

    return add


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SUMMARY:
        terminalreporter.section("benchmark numbers (extra_info)")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
