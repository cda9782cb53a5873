"""Manifests: one `manifest.json` per artefact folder (a dataset, a features cache, a frames store,
a run's checkpoints), written last, listing every file of the folder (its card included) with its
sha256. A stage verifies the whole manifest of every folder it reads before it reads any file of
it, and a run's config.json records each manifest's own sha256: any file changed after its folder
was made, a card or an encoder included, is one line naming that file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmark import io, paths
from benchmark.errors import BenchmarkError

MANIFEST = paths.MANIFEST
_SCHEMA = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {
            "type": "object",
            "minProperties": 1,
            # relative names inside the folder: no absolute path, no '..'
            "propertyNames": {"pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$)).+$"},
            "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        }
    },
}
# folder -> (the stat of the manifest and of every file it lists, its sha256): a folder verified
# once in a process is not hashed again while none of its files changed (training reads the same
# dataset through several loaders)
_verified: dict[Path, tuple[Any, str]] = {}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str | None, what: str = "card") -> None:
    """Raise (one line naming the file) unless `path` still has the hash its `what` recorded."""
    actual = sha256(path)
    if actual != expected:
        raise BenchmarkError(
            f"{path}: sha256 {actual} does not match the {what}'s {expected}; the file changed after it was made"
        )


def write(folder: Path, known: dict[str, str] | None = None) -> str:
    """List every file under `folder` (temp files aside) in its manifest; the manifest's own sha256.
    `known`: hashes the writer has just computed (a card's), not read again (datasets are large)."""
    folder = Path(folder)
    known = known or {}
    names = sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and path.name != MANIFEST and not path.name.endswith(".tmp")
    )
    files = {name: known.get(name) or sha256(folder / name) for name in names}
    io.write_json(folder / MANIFEST, {"files": files})
    return sha256(folder / MANIFEST)


def verify(folder: Path, reads: Iterable[str] = (), recorded: str | None = None) -> str:
    """Check every file `folder`'s manifest lists, and that it lists each of `reads` (the files the
    caller will read); with `recorded` (a run's config.json), the manifest must be the one it
    recorded. Returns the manifest's sha256. One line naming the file otherwise."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise BenchmarkError(f"{path}: missing; the folder is not whole, or was made before manifests: make it again")
    if recorded is not None:
        verify_sha256(path, recorded, what="run's config.json")
    manifest = io.read_json(path)
    io.check_schema(path, manifest, _SCHEMA)
    files: dict[str, str] = manifest["files"]
    unlisted = [name for name in reads if name not in files]
    if unlisted:
        raise BenchmarkError(f"{path}: does not list {unlisted[0]}, which is read from the folder")
    state = [_stat(path)] + [_stat(folder / name) for name in files]
    known = _verified.get(folder.resolve())
    if known is not None and known[0] == state:
        return known[1]
    for name, expected in files.items():
        if not (folder / name).is_file():
            raise BenchmarkError(f"{folder / name}: missing; {path} lists it")
        verify_sha256(folder / name, expected, what="manifest")
    own = sha256(path)
    _verified[folder.resolve()] = (state, own)
    return own


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
