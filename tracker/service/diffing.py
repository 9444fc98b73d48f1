"""Two files compared (``tracker diff``): each loaded into a scratch database of its own, as
an import or a restore loads it, and the two states compared (:mod:`tracker.service.diff`).

A tracker export is imported into a database holding the bundled catalogue, extended with
the vendors and models the file names that it does not know (a database's own, added with
`tracker chips add`); an Epoch release is imported as `import --from epoch --skip-invalid`
does (rows with problems left out, and counted); a dump is restored.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from tracker.errors import InvalidValue
from tracker.service.bootstrap import initialise
from tracker.service.database import create_engine
from tracker.service.diff import Diff, Snapshot, compare, snapshot
from tracker.service.files import open_to_read

KINDS = ("tracker", "epoch", "dump")


@dataclass(frozen=True)
class Loaded:
    """A file's state, and how many of its entries were left out (rows with problems, in an
    Epoch release)."""

    snapshot: Snapshot
    left_out: int = 0


def diff_files(old: str | Path, new: str | Path, file_format: str = "tracker") -> tuple[Diff, Loaded, Loaded]:
    """What changed from the file ``old`` to the file ``new``, both of ``file_format``:
    tracker (the export; a dump is recognised by its first line) or epoch."""
    kind = file_format.lower()
    if kind not in ("tracker", "epoch"):
        raise InvalidValue("from", f"unknown format {file_format!r}; use tracker or epoch")
    old_kind, new_kind = _kind_of(Path(old), kind), _kind_of(Path(new), kind)
    if old_kind != new_kind:
        named = {"dump": "a dump", "tracker": "an export"}
        raise InvalidValue(
            "new", f"is {named[new_kind]} and OLD {named[old_kind]}; give two files of one kind"
        )
    with tempfile.TemporaryDirectory(prefix="tracker-diff-") as scratch:
        loaded = [
            _load(Path(path), kind, Path(scratch) / f"{side}.db")
            for side, path in (("old", old), ("new", new))
        ]
    return compare(loaded[0].snapshot, loaded[1].snapshot), loaded[0], loaded[1]


def _kind_of(path: Path, kind: str) -> str:
    """``dump`` for a file that starts as a dump does (a JSON object), else ``kind``."""
    if kind != "tracker":
        return kind
    with open_to_read(str(path), "a file to compare") as handle:
        start = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "dump" if start.startswith(b"{") else kind


def _load(path: Path, kind: str, database: Path) -> Loaded:
    from tracker.service.formats import FORMATS
    from tracker.service.imports import import_file
    from tracker.service.restore import restore_database

    engine = create_engine(f"sqlite:///{database}")
    try:
        if _kind_of(path, kind) == "dump":
            with open_to_read(str(path), "a dump") as binary:
                restore_database(engine, binary, str(path))
            left_out = 0
        else:
            initialise(engine, seed_entries=False)
            with Session(engine) as session, session.begin(), _text(path) as handle:
                if kind == "tracker":
                    _extend_catalogue(session, handle)
                result = import_file(
                    session, handle, FORMATS[kind], name=str(path), skip_invalid=kind == "epoch"
                )
                left_out = result.rejected_entries
        with Session(engine) as session:
            return Loaded(snapshot(session), left_out)
    finally:
        engine.dispose()


def _text(path: Path) -> TextIO:
    open_to_read(str(path), "a CSV file").close()  # refused as an import refuses it
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def _extend_catalogue(session: Session, handle: TextIO) -> None:
    """Add to the scratch catalogue the vendors and models a tracker export names that it
    does not know, so that an export of a database with a catalogue of its own reads."""
    from tracker.model.names import match_key
    from tracker.model.tables import ChipModel, ChipVendor
    from tracker.service.catalogue import load_catalogue

    catalogue = load_catalogue(session)
    vendors: set[str] = set()
    models: set[tuple[str, str]] = set()
    for row in csv.DictReader(handle):
        vendor, model = (row.get("vendor") or "").strip(), (row.get("model") or "").strip()
        if not match_key(vendor):
            continue
        known = catalogue.vendors.get(match_key(vendor))
        if known is None:
            vendors.add(vendor)
        if model and (known is None or catalogue.find_model(known, model) is None):
            models.add((known or vendor, model))
    handle.seek(0)
    session.add_all(ChipVendor(name=vendor) for vendor in sorted(vendors))
    session.flush()
    session.add_all(ChipModel(vendor=vendor, name=model) for vendor, model in sorted(models))
    session.flush()
