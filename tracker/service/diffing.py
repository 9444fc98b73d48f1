"""Two files compared (``tracker diff``): each loaded into a scratch database of its own, as
an import or a restore loads it, and the two states compared (:mod:`tracker.service.diff`).

A tracker export is imported into a database holding the bundled catalogue, extended with
what the file shows of the catalogue of the database it came from (vendors and models it does
not know, and how many accelerators a superchip, server or rack of a model holds, from its
counts as announced); an Epoch release is imported as `import --from epoch --skip-invalid`
does (rows with problems left out, and counted); a dump is restored. A file that cannot be
read twice (standard input, a pipe) is copied into the scratch folder first.
"""

from __future__ import annotations

import csv
import os
import shutil
import stat
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.errors import FileRejected, InvalidValue, TrackerError
from tracker.service.bootstrap import initialise
from tracker.service.database import create_engine, error_detail
from tracker.service.diff import Diff, Snapshot, compare, snapshot
from tracker.service.files import open_to_read

SIDES = ("old", "new")
_UNIT_COLUMNS = {"superchip": "per_superchip", "server": "per_server", "rack": "per_rack"}


@dataclass(frozen=True)
class Loaded:
    """A file's state, and how many of its entries were left out (rows with problems, in an
    Epoch release)."""

    snapshot: Snapshot
    left_out: int = 0
    detached: int = 0  # parts read without their programme, which the file does not hold


def diff_files(old: str | Path, new: str | Path, file_format: str = "tracker") -> tuple[Diff, Loaded, Loaded]:
    """What changed from the file ``old`` to the file ``new`` (``-``: standard input, for one
    of them), both of ``file_format``: tracker (the export; a dump is recognised by its first
    line) or epoch."""
    kind = file_format.lower()
    if kind not in ("tracker", "epoch"):
        raise InvalidValue("from", f"unknown format {file_format!r}; use tracker or epoch")
    if str(old) == str(new) == "-":
        raise InvalidValue("new", "standard input (-) can be one of the two files, not both")
    with tempfile.TemporaryDirectory(prefix="tracker-diff-") as scratch:
        paths = [
            _readable(Path(scratch), side, str(path)) for side, path in zip(SIDES, (old, new), strict=True)
        ]
        kinds = [_kind_of(side, path, kind) for side, path in zip(SIDES, paths, strict=True)]
        if kinds[0] != kinds[1]:
            named = {"dump": "a dump", "tracker": "an export"}
            raise InvalidValue(
                "new", f"is {named[kinds[1]]} and OLD {named[kinds[0]]}; give two files of one kind"
            )
        loaded = [
            _load(side, path, str(given), file_kind, Path(scratch) / f"{side}.db")
            for side, path, given, file_kind in zip(SIDES, paths, (old, new), kinds, strict=True)
        ]
    return compare(loaded[0].snapshot, loaded[1].snapshot), loaded[0], loaded[1]


def _readable(scratch: Path, side: str, given: str) -> Path:
    """The file to read for one side: the path given, or, for standard input or a pipe (which
    can be read only once), a copy in the scratch folder. Refused in one line, naming the side."""
    if given == "-":
        copy = scratch / f"{side}.input"
        with copy.open("wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        return copy
    with _opened(side, given) as handle:
        if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return Path(given)
        copy = scratch / f"{side}.input"
        with copy.open("wb") as out:
            shutil.copyfileobj(handle, out)
        return copy


def _opened(side: str, path: str | Path) -> IO[bytes]:
    """The file opened as bytes, or its problem as the side's (OLD or NEW) in one line."""
    try:
        return open_to_read(path, "a file to compare")
    except InvalidValue as error:
        raise InvalidValue(side, error.message) from None


def _kind_of(side: str, path: Path, kind: str) -> str:
    """``dump`` for a file that starts as a dump does (a JSON object), else ``kind``."""
    if kind != "tracker":
        return kind
    with _opened(side, path) as handle:
        start = handle.read(64)
    return "dump" if bytes(start).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else kind


def _load(side: str, path: Path, name: str, kind: str, database: Path) -> Loaded:
    """The state of the file at ``path`` (``name`` in messages: the path given, or ``-``)."""
    from tracker.service.formats import FORMATS
    from tracker.service.imports import import_file
    from tracker.service.restore import restore_database

    engine = create_engine(f"sqlite:///{database}")
    try:
        if kind == "dump":
            with _opened(side, path) as binary:
                restore_database(engine, binary, name)
            left_out = detached = 0
        else:
            initialise(engine, seed_entries=False)
            detached = 0
            if kind == "tracker":
                path, detached = _without_missing_programmes(path, database.with_suffix(".csv"))
            with (
                Session(engine) as session,
                session.begin(),
                path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle,
            ):
                if kind == "tracker":
                    _extend_catalogue(session, handle)
                try:
                    result = import_file(
                        session, handle, FORMATS[kind], name=name, skip_invalid=kind == "epoch"
                    )
                except FileRejected as error:
                    raise FileRejected(
                        error.name, error.problems, fatal=error.fatal, outcome="it cannot be compared"
                    ) from None
                left_out = result.rejected_entries
        with Session(engine) as session:
            return Loaded(snapshot(session), left_out, detached)
    except SQLAlchemyError as error:  # the scratch database's, not the user's
        raise TrackerError(f"{name} cannot be compared: {error_detail(str(engine.url), error)}") from None
    finally:
        engine.dispose()


def _without_missing_programmes(path: Path, copy: Path) -> tuple[Path, int]:
    """The export at ``path``, or, where some of its entries are parts of a programme it does
    not hold (an export filtered by country, say), a copy of it (at ``copy``) in which they are
    not: they are compared as entries of their own, and the chips of the places the file
    covers are those the summary gives for them. Returns the file to read and how many entries
    lost their programme. A file that does not read as CSV is left to the import."""
    from tracker.model.names import slugify

    try:
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            rows = list(csv.reader(handle))
    except (csv.Error, UnicodeError):
        return path, 0
    if not rows or "parent" not in rows[0]:
        return path, 0
    header = rows[0]
    at = {column: place for place, column in enumerate(header)}

    def cell(row: list[str], column: str) -> str:
        place = at.get(column)
        return row[place].strip() if place is not None and place < len(row) else ""

    ids = {cell(row, "id") or slugify(cell(row, "name")) for row in rows[1:]}
    missing = {cell(row, "id") for row in rows[1:] if cell(row, "parent") and cell(row, "parent") not in ids}
    if not missing:
        return path, 0
    for row in rows[1:]:
        if cell(row, "parent") and cell(row, "parent") not in ids:
            row[at["parent"]] = ""
    with copy.open("w", encoding="utf-8", errors="surrogateescape", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)
    return copy, len(missing)


def _extend_catalogue(session: Session, handle: TextIO) -> None:
    """Add to the scratch catalogue what a tracker export shows of the catalogue of the
    database it came from: the vendors and models it names that the bundled catalogue does not
    know, and, where a count is announced in superchips, servers or racks of a model the
    catalogue gives no figure for (or another), the accelerators one holds, as the file's counts
    give it. A file that does not read as CSV is left to the import, which says why."""
    from tracker.model.names import match_key
    from tracker.model.tables import ChipModel, ChipVendor
    from tracker.service.catalogue import load_catalogue

    catalogue = load_catalogue(session)
    vendors: dict[str, str] = {}  # match key: the first spelling, for a vendor not known
    models: dict[tuple[str, str], str] = {}
    holds: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    try:
        for row in csv.DictReader(handle):
            vendor_text, model_text = (row.get("vendor") or "").strip(), (row.get("model") or "").strip()
            if not match_key(vendor_text):
                continue
            vendor = catalogue.vendors.get(match_key(vendor_text)) or vendors.setdefault(
                match_key(vendor_text), vendor_text
            )
            if not model_text:
                continue
            model = catalogue.find_model(vendor, model_text) or models.setdefault(
                (vendor, match_key(model_text)), model_text
            )
            unit, chips, announced = (
                row.get(column) or "" for column in ("announced_unit", "chips", "announced_chips")
            )
            whole = unit in _UNIT_COLUMNS and chips.isdigit() and announced.isdigit() and int(announced) > 0
            if whole and int(chips) % int(announced) == 0:
                holds[(vendor, model, unit)].add(int(chips) // int(announced))
    except (csv.Error, UnicodeError):
        pass
    finally:
        handle.seek(0)
    session.add_all(ChipVendor(name=name) for name in vendors.values())
    session.flush()
    session.add_all(ChipModel(vendor=vendor, name=name) for (vendor, _), name in models.items())
    session.flush()
    for (vendor, model, unit), counts in holds.items():
        chip = session.get(ChipModel, (vendor, model))
        if chip is not None and len(counts) == 1:
            setattr(chip, _UNIT_COLUMNS[unit], counts.pop())
    session.flush()
