"""The export file: one CSV row per chip lot, sorted by id then lot, streamed; written whole or not
at all, alone or as the nightly folder of dated files."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import itertools
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from tracker.errors import InvalidValue
from tracker.model.cells import QUOTED_STARTS, cell_text, neutralise
from tracker.model.fields import (
    EXPORT_COLUMNS,
    EXPORT_FIELDS,
    LOT_EXPORT_COLUMNS,
    EntryField,
    Stored,
    with_first_online,
)
from tracker.model.periods import period_from_parts
from tracker.model.tables import ChipLot, Entry, EntrySource, Source
from tracker.service.database import bytewise
from tracker.service.files import atomic_file
from tracker.service.filters import Filters
from tracker.service.reading import SOURCE_SEPARATOR, EntryInput, LotInput, lot_numbers

# The export's columns in runs, in their order: an entry's own cells (the same on each of its
# rows) and a lot's, alternately; how many columns each run of each has.
_RUNS = [
    (is_entry, len(list(run)))
    for is_entry, run in itertools.groupby(EXPORT_COLUMNS, EXPORT_FIELDS.__contains__)
]
_ENTRY_RUNS = [count for is_entry, count in _RUNS if is_entry]
_LOT_RUNS = [count for is_entry, count in _RUNS if not is_entry]
# An entry's exported fields, in the export's order.
_FIELDS_EXPORTED = [EXPORT_FIELDS[column] for column in EXPORT_COLUMNS if column in EXPORT_FIELDS]
_NO_LOT = [""] * len(LOT_EXPORT_COLUMNS)


def _split(cells: Sequence[str], counts: Sequence[int]) -> list[Sequence[str]]:
    """Cells cut into runs of these lengths."""
    runs, at = [], 0
    for count in counts:
        runs.append(cells[at : at + count])
        at += count
    return runs


def _interleaved(entry_runs: Sequence[Any], lot_runs: Sequence[Any]) -> list[Any]:
    """An entry's runs and a lot's, in the export's order."""
    entries, lots = iter(entry_runs), iter(lot_runs)
    return [next(entries) if is_entry else next(lots) for is_entry, _ in _RUNS]


def consistent_reads(session: Session) -> None:
    """Make every query of the session's transaction see the same snapshot, so that an export's
    two queries (lots, sources) agree while others write. Call it before the first query.

    SQLite reads in one transaction see one snapshot already; PostgreSQL needs REPEATABLE READ.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def export_rows(
    session: Session, filters: Filters, ids: Sequence[str] | None = None
) -> Generator[list[str], None, None]:
    """The export's rows (without the header), sorted by id then lot, streamed from the database.

    ``ids`` limits them to those entries.
    """
    cell = _Cells(neutralise)
    with contextlib.closing(_entries(session, filters, ids)) as entries:
        for entry, lots in entries:
            for lot in lots or [None]:
                yield _row(entry, _NO_LOT if lot is None else _lot_cells(lot, cell))


def _row(entry: Sequence[str], lot: Sequence[str]) -> list[str]:
    """A row's cells in the export's order, from an entry's and a lot's."""
    runs = _interleaved(_split(entry, _ENTRY_RUNS), _split(lot, _LOT_RUNS))
    return [value for run in runs for value in run]


def export_lines(session: Session, filters: Filters) -> Generator[str, None, None]:
    """The export's rows as CSV lines, as :mod:`csv` writes :func:`export_rows`, made
    faster: an entry's cells are written once for all its lots, a lot's values each once."""
    csv_text = _CsvText()
    cell = _Cells(csv_text.cell)
    no_lot = ["," * (count - 1) for count in _LOT_RUNS]
    with contextlib.closing(_entries(session, filters, None)) as entries:
        for entry, lots in entries:
            entry_runs = [csv_text.line(list(run)) for run in _split(entry, _ENTRY_RUNS)]
            if not lots:
                yield ",".join(_interleaved(entry_runs, no_lot)) + "\n"
            for lot in lots:
                lot_runs = [",".join(run) for run in _split(_lot_cells(lot, cell), _LOT_RUNS)]
                yield ",".join(_interleaved(entry_runs, lot_runs)) + "\n"


def _lot_cells(lot: Any, cell: _Cells) -> list[str]:
    """A lot's cells (:data:`LOT_EXPORT_COLUMNS`) from its row of :data:`_LOT_VALUES` (after its
    entry's id): its own period from its two columns."""
    (_, number, vendor, model, chips, qualifier, announced_chips, unit, status, start, precision) = lot
    period = _period_text(start, precision) if start is not None else None
    return [
        cell[number], cell[vendor], cell[model], cell[chips], cell[qualifier], cell[announced_chips],
        cell[unit], cell[status], cell[period],
    ]  # fmt: skip


# A lot's values, in the order of its cells (its period in two columns).
_LOT_VALUES = (
    ChipLot.lot,
    ChipLot.vendor,
    ChipLot.model,
    ChipLot.quantity,
    ChipLot.qualifier,
    ChipLot.announced_quantity,
    ChipLot.announced_unit,
    ChipLot.status,
    sa.type_coerce(ChipLot.online_start, NullType()).label("online_start"),
    ChipLot.online_precision,
)


def _stored_columns(field: EntryField) -> list[Any]:
    """A field's columns as the export reads them: as the database gives them, converted
    by :func:`_field_value`, once an entry."""
    columns = [Entry.__table__.c[name] for name in field.table_columns]
    if field.stored in (Stored.DAY, Stored.PERIOD, Stored.DECIMAL):
        return [sa.type_coerce(column, NullType()).label(column.key) for column in columns]
    return columns


def _field_value(field: EntryField, stored: Sequence[Any]) -> object:
    """A field's value for its cell, from its columns as the database gives them."""
    if field.stored is Stored.PERIOD:
        return _period_text(*stored)
    if field.stored is Stored.DECIMAL:
        return _number_text(stored[0])
    return stored[0]


def _entries(
    session: Session, filters: Filters, ids: Sequence[str] | None
) -> Generator[tuple[list[str], list[Any]], None, None]:
    """Each entry of the export in order, with its own cells (in the export's order, without
    its lots') and its lots in order: their entry's id and :data:`_LOT_VALUES`.

    Entries and lots are read apart, side by side in the same order (an entry's fields are
    not read again with each of its lots); an entry is exported when it has no lots and
    ``filters`` keep it, or when they keep one of its lots.
    """
    conditions = filters.lot_conditions(planned_only=False)
    if ids is not None:
        conditions.append(Entry.id.in_(ids))
    entry_order = bytewise(session, Entry.id)
    read = [field for field in _FIELDS_EXPORTED if field.table_columns]
    widths = [len(field.table_columns) for field in read]
    entries = sa.select(Entry.id, *(column for field in read for column in _stored_columns(field))).order_by(
        entry_order
    )
    if conditions:
        kept = sa.select(Entry.id).outerjoin(ChipLot, ChipLot.entry_id == Entry.id).where(*conditions)
        entries = entries.where(Entry.id.in_(kept))
    lots = (
        sa.select(ChipLot.entry_id, *_LOT_VALUES)
        .join(Entry, ChipLot.entry_id == Entry.id)
        .where(*conditions)
        .order_by(entry_order, ChipLot.lot)
    )
    # Every result is closed when the rows stop, at the end or early (a reader gone, a full
    # disk): closed later, once the connection is gone, each would fail with a traceback.
    with contextlib.ExitStack() as results:
        sources = results.enter_context(contextlib.closing(_sources_by_entry(session, ids)))
        lot_rows = _stream(session, lots, results)
        pending = next(lot_rows, None)
        for row in _stream(session, entries, results):
            entry_id = row[0]
            values, place = {}, 1
            for field, width in zip(read, widths, strict=True):
                values[field.name] = _field_value(field, row[place : place + width])
                place += width
            values["sources"] = SOURCE_SEPARATOR.join(sources.for_entry(entry_id))
            own = []
            while pending is not None and pending[0] == entry_id:
                own.append(pending)
                pending = next(lot_rows, None)
            yield _texts(*(values[field.name] for field in _FIELDS_EXPORTED)), own


def _stream(session: Session, query: sa.Executable, results: contextlib.ExitStack) -> Iterator[Any]:
    """The rows of a query, read a batch at a time (on PostgreSQL, by a server-side cursor):
    Core rows, not ORM ones, since an export reads every lot. The result is closed with
    ``results``."""
    result = results.enter_context(session.connection().execute(query.execution_options(yield_per=2000)))
    return itertools.chain.from_iterable(result.partitions())


def _as_stored(column: Any) -> Any:
    """An entry's column read as the database gives it, without SQLAlchemy's conversion:
    :func:`_entries` converts it itself, once an entry."""
    return sa.type_coerce(column, NullType()).label(column.key)


def _day(value: dt.date | str | None) -> dt.date | None:
    """A day as stored: a date (PostgreSQL) or its ISO text (SQLite)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=4096)
def _period_text(start: dt.date | str | None, precision: str | None) -> str:
    """An online period as its cell, from its two columns as stored; periods repeat."""
    return cell_text(period_from_parts(_day(start), precision))


def _number_text(value: float | int | Decimal | None) -> str | None:
    """A number as stored (a float or an integer in SQLite, a Decimal in PostgreSQL) as
    :func:`cell_text` writes it: 12.5, 120. A float's shortest form is the decimal it was
    stored from (numbers of at most 12 digits, 3 after the point)."""
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return None if value is None else cell_text(value)


def _texts(*values: object) -> list[str]:
    """Values as CSV cells, made inert for spreadsheets (:func:`neutralise`, written out: an
    export makes millions of cells)."""
    return [
        ("'" + value if value[:1] in _QUOTED else value)
        if isinstance(value, str)
        else ""
        if value is None
        else neutralise(cell_text(value))
        for value in values
    ]


_QUOTED = frozenset(QUOTED_STARTS)


class _Cells(dict[object, str]):
    """The cells of a lot's values, each worked out once (by ``make``, from the value's
    text) and then looked up: vendors, models, qualifiers and counts repeat over an export."""

    def __init__(self, make: Callable[[str], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, value: object) -> str:
        if len(self) > 100_000:  # counts are many: keep it small
            self.clear()
        cell = self[value] = self._make(cell_text(value))
        return cell


_NEEDS_QUOTES = re.compile('["\\r\\n]')


class _CsvText:
    """Cells as a CSV line holds them, quoted by :mod:`csv` itself (where a cell holds a
    comma, a quote or a line break), made inert for spreadsheets."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def line(self, cells: list[str]) -> str:
        """Cells (neutralised already) as part of a line, without its end."""
        line = ",".join(cells)
        if line.count(",") == len(cells) - 1 and not _NEEDS_QUOTES.search(line):
            return line  # no cell to quote, as most are
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue()[:-1]

    def cell(self, text: str) -> str:
        """One value's text as a cell of a line (written beside another, since :mod:`csv`
        quotes a lone empty cell)."""
        return self.line([neutralise(text), ""])[:-1]


def entry_rows(entry_id: str, entry: EntryInput) -> list[list[str]]:
    """The export rows an entry read from a file would have once stored, to compare with
    what is stored (the same cells as :func:`export_rows`)."""
    sources = sorted(set(entry.sources))  # code point order is byte order, as the database sorts them
    values = {**with_first_online(entry.values), "id": entry_id, "sources": SOURCE_SEPARATOR.join(sources)}
    cells = _texts(*(values[field.name] for field in _FIELDS_EXPORTED))
    numbered = sorted(zip(lot_numbers(entry.lots), entry.lots, strict=True), key=lambda pair: pair[0])
    if not numbered:
        return [_row(cells, _NO_LOT)]
    return [_row(cells, _lot_texts(number, lot)) for number, lot in numbered]


def _lot_texts(number: int, lot: LotInput) -> list[str]:
    """A lot read from a file, as the cells it would have once stored."""
    announced = lot.announced or (None, None)
    values = (number, lot.vendor, lot.model, lot.quantity, lot.qualifier, *announced, lot.status, lot.online)
    return _texts(*values)


class _SourceStream:
    """Sources of every entry, read alongside the entries in the same (bytewise) order."""

    def __init__(self, result: sa.Result[Any]) -> None:
        self._result = result  # closed once the export's rows are all written
        self._rows: Iterator[Any] = itertools.chain.from_iterable(result.partitions())
        self._head: tuple[str, str] | None = next(self._rows, None)

    def close(self) -> None:
        self._result.close()

    def for_entry(self, entry_id: str) -> list[str]:
        """The sources of ``entry_id``; asked once for each id, in order."""
        found: list[str] = []
        while self._head is not None and self._head[0] <= entry_id:
            if self._head[0] == entry_id:
                found.append(self._head[1])
            self._head = next(self._rows, None)
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
    return _SourceStream(session.connection().execute(query))


def write_export(session: Session, filters: Filters, handle: IO[str]) -> int:
    """Write the export CSV (header and rows) to an open text file; returns the row count."""
    csv.writer(handle, lineterminator="\n").writerow(EXPORT_COLUMNS)
    count = 0
    # Closed here, while the session's connection is open, whatever stops the writing.
    with contextlib.closing(export_lines(session, filters)) as lines:
        while batch := list(itertools.islice(lines, 2000)):
            handle.write("".join(batch))
            count += len(batch)
    return count


def export_to_path(session: Session, filters: Filters, path: Path) -> int:
    """Write the export to ``path`` atomically; returns the row count."""
    refuse_database_file(session, path)
    with atomic_file(path, "output") as handle:
        return write_export(session, filters, handle)


def refuse_database_file(session: Session, path: Path, field: str = "output") -> None:
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
