"""Importing entries from files: every row checked first, then stored in one transaction.

A reader (:mod:`tracker.service.formats`) turns a file into :class:`ParsedEntry` items;
:func:`import_entries` compares each with what is stored and stores them in bulk, and raises
:class:`~tracker.errors.FileRejected` with every problem when any row is bad, so that the
caller's transaction, rolled back, leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from sqlalchemy.orm import Session

from tracker.errors import FileRejected, InvalidValue
from tracker.service.catalogue import load_catalogue
from tracker.service.formats.base import ParsedEntry, Progress, Reader
from tracker.service.formats.tracker import RowsApart
from tracker.service.importer import Importer, ImportResult, OnConflict
from tracker.service.operators import load_operators


def import_entries(
    session: Session,
    parsed: Iterable[ParsedEntry],
    *,
    name: str,
    on_conflict: OnConflict | None = None,
    skip_invalid: bool = False,
) -> ImportResult:
    """Store the entries read from a file named ``name``, in bulk, in the session's transaction.

    An entry identical to the stored one under its id is unchanged; one with other values
    is a conflict, a problem unless ``on_conflict`` says otherwise. With ``skip_invalid``,
    entries with problems are left out and listed in the result; otherwise any problem
    raises :class:`FileRejected` once the whole file has been checked. Nothing is
    committed here: the caller commits, or rolls back for a dry run.
    """
    importer = Importer(session, on_conflict, skip_invalid)
    try:
        for item in parsed:
            importer.take(item)
    except UnicodeDecodeError:
        raise InvalidValue("file", f"{name} is not UTF-8 text; save it as UTF-8 CSV") from None
    importer.finish()
    if importer.problems:
        # In line order, with the rows left out too: a left-out parent explains its child's problem.
        every = sorted([*importer.result.rejected, *importer.problems], key=lambda problem: problem.line)
        raise FileRejected(name, every, fatal=importer.fatal)
    importer.result.ids = set(importer.lines) - importer.left_out
    importer.result.rejected.sort(key=lambda problem: problem.line)
    return importer.result


def import_file(
    session: Session,
    handle: TextIO,
    read: Reader,
    *,
    name: str,
    on_conflict: OnConflict | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Read a file (``handle``, which must be seekable) with ``read`` and store its entries
    (:func:`import_entries`), in the session's transaction.

    The file is read as it comes, which is fast and holds one entry at a time; when the rows
    of an entry turn out to be apart (a file sorted by another column, or shuffled), what
    was stored of it is rolled back and the file read again with its rows gathered by id,
    so that every order of the same rows gives the same entries.
    """
    catalogue = load_catalogue(session)
    catalogue.operators = load_operators(session)
    counted = _CountedProgress(progress)
    told = counted if progress is not None else None  # a million calls for nothing, else
    try:
        with session.begin_nested():
            entries = read(handle, catalogue, name=name, progress=told)
            return import_entries(
                session, entries, name=name, on_conflict=on_conflict, skip_invalid=skip_invalid
            )
    except RowsApart:
        handle.seek(0)
        counted.rewind()
        entries = read(handle, catalogue, name=name, progress=told, gather=True)
        return import_entries(session, entries, name=name, on_conflict=on_conflict, skip_invalid=skip_invalid)


class _CountedProgress:
    """Tells a progress bar how much of a file was read, once: a file read again tells only
    what goes beyond the first reading."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.read = 0  # in this reading
        self.told = 0  # in every reading

    def __call__(self, characters: int) -> None:
        self.read += characters
        if self.progress is not None and self.read > self.told:
            self.progress(self.read - self.told)
            self.told = self.read

    def rewind(self) -> None:
        self.read = 0


__all__ = ["ImportResult", "OnConflict", "import_entries", "import_file"]
