"""Atomic writes: every artefact appears whole or not at all (write to a temp file, rename).

Temp files are named `.<name>.<pid>.<random>.tmp` beside their target: unique per writer, and a
stage that starts removes those whose writer is gone (`remove_stale_temps`). A write that fails
(full disk, read-only folder) removes its temp file and is one line naming the target.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import jsonschema
import numpy as np
import pandas as pd

from benchmark.errors import BenchmarkError

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]+\.tmp$")


def _not_written(path: Path, error: OSError) -> BenchmarkError:
    return BenchmarkError(f"{path}: not written ({error.strerror or error})")


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temp file in `path`'s folder (one filesystem, so the final rename is atomic)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
        # mkstemp makes it 0600; an artefact gets the mode any new file gets under the umask
        os.fchmod(fd, 0o666 & ~_umask())
        return fd, tmp
    except OSError as error:
        raise _not_written(path, error) from error


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it: set back at once
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _not_written(path, error) from error
        raise


def remove_stale_temps(*folders: Path) -> list[Path]:
    """Remove the temp files that writers killed mid-write (their process is gone) left directly
    in `folders`; a live writer's are kept. Stages call it first. Returns what was removed."""
    removed = []
    for folder in folders:
        for tmp in Path(folder).glob(".*.tmp"):
            match = _TEMP.match(tmp.name)
            if match and not _alive(int(match["pid"])):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        pass
    return True


@contextmanager
def temporary_npy(path: Path, dtype: Any, shape: tuple[int, ...]) -> Iterator[Any]:
    """A writable memory-mapped .npy that becomes `path` when the block ends, and is removed if it
    fails: for arrays too large to build in memory first."""
    path = Path(path)
    fd, tmp = _temp_beside(path)
    os.close(fd)
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        # Reserve every block now: on a full disk this fails with ENOSPC, where writing to a
        # sparse map's pages would end the process by SIGBUS, with no message.
        with open(tmp, "r+b") as f:
            os.posix_fallocate(f.fileno(), 0, os.fstat(f.fileno()).st_size)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise _not_written(path, error) from error
    try:
        yield out
        out.flush()
        del out
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BenchmarkError(f"{path}: not valid JSON ({error})") from error


def check_schema(where: Path | str, value: Any, schema: dict[str, Any]) -> None:
    """Raise one line naming `where` and the field unless `value` (read from it) fits the JSON `schema`."""
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    if error is not None:
        field = ".".join(map(str, error.absolute_path))
        raise BenchmarkError(f"{where}: {f'key {field!r}' if field else 'the record'}: {error.message}")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_text(path, frame.to_csv(index=False, lineterminator="\n"))
