"""The one registry mechanism: light declarations, implementations imported on first use."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmark.errors import BenchmarkError
from benchmark.registry import Registry


@dataclass(frozen=True)
class Thing:
    name: str
    implementation: str
    size: int = 0


def test_entries_keep_their_order_and_load_their_implementation() -> None:
    things: Registry[Thing] = Registry("thing")
    things.register(Thing("b", "json:dumps", 2))
    things.register(Thing("a", "json:loads", 1))
    assert list(things) == ["b", "a"] and things["a"].size == 1 and "c" not in things
    assert things.load("b")([1]) == "[1]"
    with pytest.raises(BenchmarkError, match="thing name 'a' is registered twice"):
        things.register(Thing("a", "json:dumps"))
    with pytest.raises(BenchmarkError, match=re.escape("implementation 'json.dumps' is not 'module:attr'")):
        things.register(Thing("c", "json.dumps"))
    things.unregister("a")
    assert list(things) == ["b"]


def test_declaring_modules_are_imported_at_the_first_lookup_and_implementations_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    things: Registry[Thing] = Registry("thing", declared_in=("declaring_things",))
    monkeypatch.setattr(sys.modules[__name__], "THINGS", things, raising=False)
    declaring = f"import sys\ntest = sys.modules[{__name__!r}]\n"  # declares into this test's registry
    (tmp_path / "declaring_things.py").write_text(
        f"{declaring}test.THINGS.register(test.Thing('heavy', 'heavy:VALUE'))\n"
    )
    (tmp_path / "heavy.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert "declaring_things" not in sys.modules
        assert things["heavy"].implementation == "heavy:VALUE"  # the lookup imported its declaration
        assert "declaring_things" in sys.modules and "heavy" not in sys.modules
        assert things.load("heavy") == 42 and "heavy" in sys.modules
    finally:
        for module in ("declaring_things", "heavy"):
            sys.modules.pop(module, None)
