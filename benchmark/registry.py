"""The one registry mechanism of the sources, generators and algorithms.

An entry is a light declaration: its name, what validation, planning and the report read of it
(a frozen dataclass of plain values), and where its implementation is, as "module:attr". The
implementation (a data generator, an importer, a trained model: torch, gymnasium, d3rlpy) is
imported only when a stage asks for it (`Registry.load`), so parsing a preset, planning it and
building the report never import it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

from benchmark.errors import BenchmarkError


class Entry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def implementation(self) -> str:
        """Where what the entry runs is, as "module:attr": imported on first use."""
        ...


E = TypeVar("E", bound=Entry)


class Registry(Mapping[str, E], Generic[E]):
    """Name -> declaration, in the order of registration.

    `declared_in` names light modules whose import registers entries (the algorithm packages
    declare theirs in their `__init__`); they are imported on the first lookup, so that the
    registry is complete whichever module a process imported first.
    """

    def __init__(self, kind: str, declared_in: tuple[str, ...] = ()):
        self.kind = kind
        self._declared_in = declared_in
        self._entries: dict[str, E] = {}
        self._imported = False

    def register(self, declaration: E) -> E:
        if declaration.name in self._entries:
            raise BenchmarkError(f"{self.kind} name {declaration.name!r} is registered twice")
        module, _, attr = declaration.implementation.partition(":")
        if not module or not attr:
            raise BenchmarkError(
                f"{self.kind} {declaration.name!r}: implementation {declaration.implementation!r} is not 'module:attr'"
            )
        self._entries[declaration.name] = declaration
        return declaration

    def unregister(self, name: str) -> None:
        """Remove an entry (a test's own, once the test is done)."""
        del self._entries[name]

    def load(self, name: str) -> Any:
        """The implementation of entry `name`, imported now if it was not yet."""
        module, _, attr = self[name].implementation.partition(":")
        return getattr(importlib.import_module(module), attr)

    def _complete(self) -> dict[str, E]:
        if not self._imported:
            self._imported = True  # before importing: a declaring module may look itself up
            for module in self._declared_in:
                importlib.import_module(module)
        return self._entries

    def __getitem__(self, name: str) -> E:
        return self._complete()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._complete())

    def __len__(self) -> int:
        return len(self._complete())
