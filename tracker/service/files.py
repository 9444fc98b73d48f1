"""Writing files that readers and crashes never see half written."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: abandoned temporary files stay until removed by hand
    fcntl = None  # type: ignore[assignment]

from tracker.errors import FileProblem, InvalidValue


def _default_mode() -> int:
    """The permissions a new file gets from the umask (mkstemp's own are owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


TEMPORARY_SUFFIX = ".tmp"
ABANDONED_AFTER_SECONDS = 60


def _lock(descriptor: int) -> None:
    """Mark a temporary file as being written: the lock goes when its process does, even killed."""
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)


def remove_abandoned(folder: Path, prefix: str, keep: Path | None = None) -> None:
    """Delete the temporary files, named ``prefix...`` in ``folder``, that killed writers left.

    A file still locked belongs to a writer at work, and so does a file written in
    the last minute (its writer may not have locked it yet): both are left alone.
    """
    if fcntl is None:
        return
    for candidate in folder.glob(f"{glob.escape(prefix)}*{TEMPORARY_SUFFIX}"):
        if candidate == keep:
            continue
        try:
            if time.time() - candidate.stat().st_mtime < ABANDONED_AFTER_SECONDS:
                continue
            descriptor = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live writer holds it
        else:
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def atomic_file(path: Path, field: str, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A UTF-8 text file (``binary``: a file of bytes) that appears at ``path`` complete or
    not at all.

    It is written beside its target under a temporary name, flushed to disk and
    renamed over the target; on any failure the temporary file is removed. A symbolic
    link's target is the file replaced; a device or a pipe is written to directly.
    Problems are reported against ``field``, the option that named the file.
    """
    if path.is_dir():
        raise InvalidValue(field, f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise InvalidValue(field, f"folder {path.parent} does not exist")
    real = Path(os.path.realpath(path))  # a symbolic link stays one: its target is replaced
    if real.exists() and not real.is_file():
        # A device or a pipe (/dev/stdout, a FIFO) is written to, never replaced by a file.
        try:
            with real.open("wb") if binary else real.open("w", encoding="utf-8", newline="") as stream:
                yield stream
        except OSError as error:
            raise FileProblem(field, f"cannot write {path}: {error.strerror}") from None
        return
    path = real
    folder = path.parent
    prefix = f".{path.name}."
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=prefix, suffix=TEMPORARY_SUFFIX, dir=folder)
    except OSError as error:
        raise FileProblem(field, f"cannot write in {folder}: {error.strerror}") from None
    try:
        _lock(descriptor)
        remove_abandoned(folder, prefix, keep=Path(temporary))
        os.fchmod(descriptor, _default_mode())
        opened = (
            os.fdopen(descriptor, "wb")
            if binary
            else os.fdopen(descriptor, "w", encoding="utf-8", newline="")
        )
        with opened as handle:
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
