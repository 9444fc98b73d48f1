"""Writing files that readers and crashes never see half written."""

from __future__ import annotations

import contextlib
import glob
import os
import stat
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
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NO_TERMINAL = getattr(os, "O_NOCTTY", 0)  # writing to a terminal must not make it ours
ABANDONED_AFTER_SECONDS = 60


def _lock(descriptor: int) -> None:
    """Mark a temporary file as being written: the lock goes when its process does, even killed."""
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)


def remove_abandoned(folder: Path, prefix: str, keep: Path | None = None) -> None:
    """Delete the temporary files, named ``prefix...`` in ``folder``, that killed writers left.

    A file still locked belongs to a writer at work, and so does a file written in
    the last minute (its writer may not have locked it yet): both are left alone. So is
    anything by such a name that is not a plain file (a pipe would hold the export up for
    ever, a link lead out of the folder): the tracker never made it.
    """
    if fcntl is None:
        return
    for candidate in folder.glob(f"{glob.escape(prefix)}*{TEMPORARY_SUFFIX}"):
        if candidate == keep:
            continue
        try:
            if time.time() - candidate.lstat().st_mtime < ABANDONED_AFTER_SECONDS:
                continue
            descriptor = os.open(candidate, os.O_RDONLY | _NO_FOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                continue
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live writer holds it
        else:
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
        finally:
            os.close(descriptor)


def _user() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _trusted(status: os.stat_result) -> bool:
    """Whether a link, pipe or device was put where it is by this user or by root (as
    ``/dev/stdout`` is): one planted by someone else is never followed or written to."""
    return status.st_uid in (0, _user())


def _open_descriptor_named(path: Path) -> int | None:
    """N when ``path`` leads, through links, to ``/proc/self/fd/N``: ``/dev/stdout``,
    ``/dev/stderr`` and ``/dev/fd/N`` name the process's own open files."""
    own_descriptors = os.path.realpath("/proc/self/fd")
    current = path
    for _ in range(40):  # as many links as the kernel follows
        if current.name.isdigit() and os.path.realpath(current.parent) == own_descriptors:
            return int(current.name)
        if not current.is_symlink():
            return None
        current = current.parent / os.readlink(current)
    return None


def _stream_at(path: Path, status: os.stat_result | None, field: str) -> int | None:
    """A descriptor open for writing when ``path`` names a stream (a pipe, a character device,
    an open file of this process), to be written to as it is; None when ``path`` is a file
    to replace (or to create).

    A link is followed only when it is this user's or root's and leads to a stream; any
    other link is replaced, as a pipe or a device put there by someone else is.
    """
    if status is None or stat.S_ISREG(status.st_mode) or not _trusted(status):
        return None
    if stat.S_ISLNK(status.st_mode):
        number = _open_descriptor_named(path)
        if number is not None:
            try:
                return os.dup(number)
            except OSError as error:
                raise FileProblem(field, f"cannot write {path}: {error.strerror}") from None
        flags = os.O_WRONLY | _NO_TERMINAL
    elif stat.S_ISFIFO(status.st_mode) or stat.S_ISCHR(status.st_mode):
        flags = os.O_WRONLY | _NO_TERMINAL | _NO_FOLLOW
    else:
        raise InvalidValue(field, f"{path} is not a file, a pipe or a character device; give a file name")
    try:
        target = path.stat()
    except OSError:
        return None  # a link that leads nowhere: replaced
    if not (stat.S_ISFIFO(target.st_mode) or stat.S_ISCHR(target.st_mode)):
        return None
    try:
        descriptor = os.open(path, flags)  # no O_TRUNC: what is opened is checked first
    except OSError as error:
        raise FileProblem(field, f"cannot write {path}: {error.strerror}") from None
    opened = os.fstat(descriptor).st_mode
    if stat.S_ISFIFO(opened) or stat.S_ISCHR(opened):
        return descriptor
    os.close(descriptor)  # it changed under us into a file: replace it instead
    return None


def names_a_stream(path: Path) -> bool:
    """Whether :func:`atomic_file` writes to ``path`` as it is (a pipe, a character device,
    ``/dev/stdout``) rather than making a file there: a command then prints no path, which
    would go into the stream."""
    try:
        status = path.lstat()
    except OSError:
        return False
    if stat.S_ISREG(status.st_mode) or not _trusted(status):
        return False
    if stat.S_ISLNK(status.st_mode) and _open_descriptor_named(path) is not None:
        return True
    try:
        target = path.stat()
    except OSError:
        return False
    return stat.S_ISFIFO(target.st_mode) or stat.S_ISCHR(target.st_mode)


def _kept_mode(status: os.stat_result | None) -> int:
    """The permissions of the file written: those of the file it replaces, when that is
    the user's own (a ``chmod 600`` export stays 600), else those the umask gives."""
    if status is not None and stat.S_ISREG(status.st_mode) and status.st_uid == _user():
        return stat.S_IMODE(status.st_mode) & 0o777
    return _default_mode()


def _opened(descriptor: int, binary: bool) -> IO[Any]:
    return os.fdopen(descriptor, "wb") if binary else os.fdopen(descriptor, "w", encoding="utf-8", newline="")


@contextlib.contextmanager
def atomic_file(path: Path, field: str, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A UTF-8 text file (``binary``: a file of bytes) that appears at ``path`` complete or
    not at all.

    It is written beside its target under a temporary name, flushed to disk and
    renamed onto the path: a symbolic link there is replaced, never followed, so nothing
    outside the folder is written (a link planted at a predictable name cannot redirect
    the export). A file replaced keeps its permissions if it was the user's own; a new
    one gets the umask's. A pipe or a character device (``/dev/stdout``, a FIFO, and a
    link of the user's or root's to one) is written to directly. Problems are reported
    against ``field``, the option that named the file.
    """
    try:
        status: os.stat_result | None = path.lstat()
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise FileProblem(field, f"cannot write {path}: {error.strerror}") from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise InvalidValue(field, f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise InvalidValue(field, f"folder {path.parent} does not exist")
    stream = _stream_at(path, status, field)
    if stream is not None:
        try:
            with _opened(stream, binary) as handle:
                yield handle
        except BrokenPipeError:
            raise  # the reader went away: for the command to end quietly, as on standard output
        except OSError as error:
            raise FileProblem(field, f"cannot write {path}: {error.strerror}") from None
        return
    folder = path.parent
    prefix = f".{path.name}."
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=prefix, suffix=TEMPORARY_SUFFIX, dir=folder)
    except OSError as error:
        raise FileProblem(field, f"cannot write in {folder}: {error.strerror}") from None
    try:
        _lock(descriptor)
        remove_abandoned(folder, prefix, keep=Path(temporary))
        os.fchmod(descriptor, _kept_mode(status))
        with _opened(descriptor, binary) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)  # replaces a link at the path, not the file it points at
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise FileProblem(field, f"cannot write {path}: {error.strerror}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def open_to_read(file: str | os.PathLike[str], kind: str) -> IO[bytes]:
    """A file given to be read (``kind``: what it should be, "a CSV file"), opened as bytes;
    one that cannot be is :class:`InvalidValue` of the field ``file``, in one line."""
    try:
        return open(file, "rb")
    except FileNotFoundError:
        raise InvalidValue("file", f"{os.fspath(file)} does not exist") from None
    except IsADirectoryError:
        raise InvalidValue("file", f"{os.fspath(file)} is a folder; give {kind}") from None
    except OSError as error:
        raise InvalidValue("file", f"cannot read {os.fspath(file)}: {error.strerror}") from None
