"""The export file: one CSV row per chip lot (SPEC section 4)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import InvalidValue
from tracker.model.cells import cell_text, neutralise
from tracker.model.periods import period_from_parts
from tracker.model.tables import ChipLot, Entry, EntrySource, Source
from tracker.service.database import bytewise
from tracker.service.entries import SOURCE_SEPARATOR, EntryInput, LotInput, lot_numbers
from tracker.service.files import atomic_file, remove_abandoned
from tracker.service.filters import Filters

EXPORT_COLUMNS = (
    "id", "name", "operator", "country", "city", "kind", "sponsor", "parent", "status",
    "confidence", "announced", "online", "lot", "vendor", "model", "chips", "power_mw",
    "sources", "notes", "scope", "qualifier", "announced_chips", "announced_unit",
)  # fmt: skip


def consistent_reads(session: Session) -> None:
    """Make every query of the session's transaction see the same snapshot, so that an export's
    two queries (lots, sources) agree while others write. Call it before the first query.

    SQLite reads in one transaction see one snapshot already; PostgreSQL needs REPEATABLE READ.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def export_rows(session: Session, filters: Filters, ids: Sequence[str] | None = None) -> Iterator[list[str]]:
    """The export's rows (without the header), sorted by id then lot, streamed from the database.

    ``ids`` limits them to those entries.
    """
    entry_order = bytewise(session, Entry.id)
    query = (
        sa.select(
            Entry.id,
            Entry.name,
            Entry.operator,
            Entry.country,
            Entry.city,
            Entry.kind,
            Entry.sponsor,
            Entry.parent_id,
            Entry.status,
            Entry.confidence,
            Entry.announced_on,
            Entry.online_start,
            Entry.online_precision,
            ChipLot.lot,
            ChipLot.vendor,
            ChipLot.model,
            ChipLot.quantity,
            Entry.power_mw,
            Entry.notes,
            Entry.scope,
            ChipLot.qualifier,
            ChipLot.announced_quantity,
            ChipLot.announced_unit,
        )
        .select_from(Entry)
        .outerjoin(ChipLot, ChipLot.entry_id == Entry.id)
        .where(*filters.lot_conditions(planned_only=False))
        .order_by(entry_order, ChipLot.lot)
        .execution_options(yield_per=2000)
    )
    if ids is not None:
        query = query.where(Entry.id.in_(ids))
    sources = _sources_by_entry(session, ids)
    try:
        for row in session.execute(query):
            (entry_id, name, operator, country, city, kind, sponsor, parent, status, confidence,
             announced, online_start, online_precision, lot, vendor, model, chips, power_mw,
             notes, scope, qualifier, announced_chips, announced_unit) = row  # fmt: skip
            head = [
                entry_id, name, operator, country, city, kind, sponsor, parent, status, confidence,
                announced, period_from_parts(online_start, online_precision),
            ]  # fmt: skip
            tail = [power_mw, SOURCE_SEPARATOR.join(sources.for_entry(entry_id)), notes, scope]
            yield _cells(
                head, [lot, vendor, model, chips], tail, [qualifier, announced_chips, announced_unit]
            )
    finally:  # a filtered export stops before the sources of every entry are read
        sources.close()


def _cells(head: list[object], lot: list[object], tail: list[object], more: list[object]) -> list[str]:
    """One row of the export, in its column order, as CSV cells: the entry's fields before
    the lot's (``head``) and after (``tail``: power, sources, notes, scope), then ``more`` of
    the lot's (qualifier, the count as announced)."""
    return [neutralise(cell_text(cell)) for cell in (*head, *lot, *tail, *more)]


def entry_rows(entry_id: str, entry: EntryInput) -> list[list[str]]:
    """The export rows an entry read from a file would have once stored, to compare with
    what is stored (the same cells as :func:`export_rows`)."""
    sources = sorted(set(entry.sources))  # code point order is byte order, as the database sorts them
    head: list[object] = [
        entry_id, entry.name, entry.operator, entry.country, entry.city, entry.kind, entry.sponsor,
        entry.parent, entry.status, entry.confidence, entry.announced, entry.online,
    ]  # fmt: skip
    numbered = sorted(zip(lot_numbers(entry.lots), entry.lots, strict=True), key=lambda pair: pair[0])
    lots: list[tuple[int | None, LotInput | None]] = [*numbered] or [(None, None)]
    return [
        _cells(
            head,
            [number, lot.vendor, lot.model, lot.quantity] if lot else [None] * 4,
            [entry.power_mw, SOURCE_SEPARATOR.join(sources), entry.notes, entry.scope],
            [lot.qualifier, *(lot.announced or (None, None))] if lot else [None] * 3,
        )
        for number, lot in lots
    ]


class _SourceStream:
    """Sources of every entry, read alongside the entries in the same (bytewise) order."""

    def __init__(self, result: sa.Result[Any]) -> None:
        self._result = result  # closed once the export's rows are all written
        self._rows: Iterator[Any] = iter(result)
        self._head: tuple[str, str] | None = next(self._rows, None)
        self._last: tuple[str, list[str]] = ("", [])

    def close(self) -> None:
        self._result.close()

    def for_entry(self, entry_id: str) -> list[str]:
        """The sources of ``entry_id``; asked for ids in order, each as often as it has lots."""
        if self._last[0] == entry_id:
            return self._last[1]
        found: list[str] = []
        while self._head is not None and self._head[0] <= entry_id:
            if self._head[0] == entry_id:
                found.append(self._head[1])
            self._head = next(self._rows, None)
        self._last = (entry_id, found)
        return found


def _sources_by_entry(session: Session, ids: Sequence[str] | None) -> _SourceStream:
    query = (
        sa.select(EntrySource.entry_id, Source.reference)
        .join(Source, Source.id == EntrySource.source_id)
        .order_by(bytewise(session, EntrySource.entry_id), bytewise(session, Source.reference))
        .execution_options(yield_per=2000)
    )
    if ids is not None:
        query = query.where(EntrySource.entry_id.in_(ids))
    return _SourceStream(session.execute(query))


def write_export(session: Session, filters: Filters, handle: IO[str]) -> int:
    """Write the export CSV (header and rows) to an open text file; returns the row count."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in export_rows(session, filters):
        writer.writerow(row)
        count += 1
    return count


def export_to_path(session: Session, filters: Filters, path: Path) -> int:
    """Write the export to ``path`` atomically; returns the row count."""
    _refuse_database_file(session, path)
    with atomic_file(path, "output") as handle:
        return write_export(session, filters, handle)


FULL_STEM = "tracker-lots"
CHANGES_STEM = "tracker-changes"  # an incremental export never replaces the full one


def export_to_folder(session: Session, filters: Filters, folder: Path, day: dt.date) -> tuple[Path, Path]:
    """The nightly export: ``tracker-lots-DAY.csv`` in ``folder``, and ``tracker-lots-latest.csv``
    beside it with the same bytes; ``tracker-changes-...`` for an incremental export (filters
    with ``changed_since``). Each appears whole or not at all; returns both paths."""
    if not folder.is_dir():
        problem = "is a file; give a folder" if folder.exists() else "does not exist"
        raise InvalidValue("output_dir", f"{folder} {problem}")
    stem = CHANGES_STEM if filters.changed_since else FULL_STEM
    dated = folder / f"{stem}-{day.isoformat()}.csv"
    latest = folder / f"{stem}-latest.csv"
    for path in (dated, latest):
        _refuse_database_file(session, path, "output_dir")
    remove_abandoned(folder, f".{stem}-")  # left by runs killed on earlier days
    with atomic_file(dated, "output_dir") as handle:
        write_export(session, filters, handle)
    with atomic_file(latest, "output_dir") as handle, dated.open(encoding="utf-8", newline="") as written:
        shutil.copyfileobj(written, handle)
    return dated, latest


def _refuse_database_file(session: Session, path: Path, field: str = "output") -> None:
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database).expanduser().resolve()
        own_files = {
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
        }
        if path.expanduser().resolve() in own_files:
            raise InvalidValue(field, f"{path} is the database itself; give another file")
