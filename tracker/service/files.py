"""Writing files that readers and crashes never see half written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tracker.errors import FileProblem, InvalidValue


def _default_mode() -> int:
    """The permissions a new file gets from the umask (mkstemp's own are owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_file(path: Path, field: str) -> Iterator[IO[str]]:
    """A UTF-8 text file that appears at ``path`` complete or not at all.

    It is written beside its target under a temporary name, flushed to disk and
    renamed over the target; on any failure the temporary file is removed.
    Problems are reported against ``field``, the option that named the file.
    """
    folder = path.parent
    if path.is_dir():
        raise InvalidValue(field, f"{path} is a folder; give a file name")
    if not folder.is_dir():
        raise InvalidValue(field, f"folder {folder} does not exist")
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise FileProblem(field, f"cannot write in {folder}: {error.strerror}") from None
    try:
        os.fchmod(descriptor, _default_mode())
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise FileProblem(field, f"cannot write {path}: {error.strerror}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
