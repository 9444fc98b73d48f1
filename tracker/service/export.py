"""The export file: one CSV row per chip lot, sorted by id then lot, streamed; written whole or not
at all, alone or as the nightly folder of dated files."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import itertools
import operator
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
# The exported fields the entry table holds (all but the sources): where each one's columns are
# in an entry's row as :func:`_entries` reads it (its id first, then these fields' columns).
_READ = [field for field in _FIELDS_EXPORTED if field.table_columns]
_READ_AT = dict(
    zip(
        (field.name for field in _READ),
        itertools.accumulate((len(field.table_columns) for field in _READ), initial=1),
        strict=False,
    )
)


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
        for row, sources, lots in entries:
            entry = _entry_cells(row, sources)
            for lot in lots or [None]:
                yield _row(entry, _NO_LOT if lot is None else _lot_cells(lot[1:], cell))


def _row(entry: Sequence[str], lot: Sequence[str]) -> list[str]:
    """A row's cells in the export's order, from an entry's and a lot's."""
    runs = _interleaved(_split(entry, _ENTRY_RUNS), _split(lot, _LOT_RUNS))
    return [value for run in runs for value in run]


def _entry_cells(row: Sequence[Any], sources: str) -> list[str]:
    """An entry's own cells in the export's order, from its row as :func:`_entries` reads it
    and its sources' cell."""
    values: list[object] = []
    for field in _FIELDS_EXPORTED:
        if field.table_columns:
            at = _READ_AT[field.name]
            values.append(_field_value(field, row[at : at + len(field.table_columns)]))
        else:
            values.append(sources)
    return _texts(*values)


def _field_value(field: EntryField, stored: Sequence[Any]) -> object:
    """A field's value for its cell, from its columns as the database gives them."""
    if field.stored is Stored.PERIOD:
        return _period_text(*stored)
    if field.stored is Stored.DECIMAL:
        return _number_text(stored[0])
    return stored[0]


# An entry's line is made once, as a template for all its lots: its cells, with a slot (%s)
# in place of each run of a lot's cells. A lot's runs are made once for each set of values
# (lots repeat: vendors, models, counts) and put in the slots.
_SLOT = "%s"
_LOT_SLOTS = len(_LOT_RUNS)
_NO_LOT_RUNS = tuple("," * (count - 1) for count in _LOT_RUNS)


def _template_positions() -> list[int]:
    """Where each cell of an entry's template is in its row as read and converted, with its
    sources' cell and a slot after it (:meth:`_Lines.template`)."""
    positions: list[int] = []
    fields = iter(_FIELDS_EXPORTED)
    for is_entry, count in _RUNS:
        if is_entry:
            for field in itertools.islice(fields, count):
                positions.append(_READ_AT[field.name] if field.table_columns else -2)
        else:
            positions.append(-1)
    return positions


_TEMPLATE_POSITIONS = _template_positions()
_TEMPLATE_CELLS = operator.itemgetter(*_TEMPLATE_POSITIONS)
_TEMPLATE_COMMAS = len(_TEMPLATE_POSITIONS) - 1
# Where a day's column is in an entry's row, a period's columns and a decimal's.
_DAYS_AT = [_READ_AT[field.name] for field in _READ if field.stored is Stored.DAY]
_PERIODS_AT = [_READ_AT[field.name] for field in _READ if field.stored is Stored.PERIOD]
_DECIMALS_AT = [_READ_AT[field.name] for field in _READ if field.stored is Stored.DECIMAL]
# A cell starting with one of these is made inert for spreadsheets: after a comma, in a line
# with no comma within a cell (a regular expression finds it faster than ^|, would).
_INERT_AFTER_COMMA = re.compile(",[" + re.escape("".join(QUOTED_STARTS)) + "]")


class _Lines:
    """The export's CSV lines, as :mod:`csv` writes :func:`export_rows`."""

    def __init__(self) -> None:
        self._csv = _CsvText()
        self._cell = _Cells(self._csv.cell)
        self.lot_runs: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def template(self, row: Sequence[Any], sources: str) -> str:
        """An entry's line, with a slot for each run of a lot's cells: ``line % runs``."""
        values = list(row)  # texts as they are (read as empty where there is none)
        for at in _DAYS_AT:
            if values[at].__class__ is not str:  # PostgreSQL's dates, SQLite's none
                values[at] = cell_text(values[at])
        for at in _PERIODS_AT:
            values[at] = _period_text(row[at], row[at + 1])
        for at in _DECIMALS_AT:
            values[at] = _number_text(row[at]) or ""
        values.append(sources)
        values.append(_SLOT)
        try:
            line = ",".join(_TEMPLATE_CELLS(values))
        except TypeError:  # a value not text (a text column holding another): written below
            line = ""
        if (
            line.count(",") == _TEMPLATE_COMMAS  # no cell holds a comma
            and line.count("%") == _LOT_SLOTS  # nor a %: the slots are the only ones
            and '"' not in line
            and "\n" not in line
            and "\r" not in line
            and line[:1] not in _QUOTED
            and not _INERT_AFTER_COMMA.search(line)
        ):
            return line + "\n"  # no cell to quote or make inert, as most are
        cells = iter(_entry_cells(row, sources))
        with_slots = [
            cell
            for is_entry, count in _RUNS
            for cell in (
                [text.replace("%", "%%") for text in itertools.islice(cells, count)] if is_entry else [_SLOT]
            )
        ]
        return self._csv.line(with_slots) + "\n"

    def new_lot_runs(self, values: tuple[Any, ...]) -> tuple[str, ...]:
        """A lot's runs of cells, each as part of a line, from its :data:`_LOT_VALUES`, kept
        in :attr:`lot_runs` (lots' values repeat)."""
        if len(self.lot_runs) > 20_000:  # counts are many: keep it small
            self.lot_runs.clear()
        runs = self.lot_runs[values] = tuple(
            ",".join(run) for run in _split(_lot_cells(values, self._cell), _LOT_RUNS)
        )
        return runs


def _line_batches(session: Session, filters: Filters) -> Generator[list[str], None, None]:
    """The export's CSV lines, a batch at a time: :func:`_entries` written out, its merging of
    the three queries' rows done here, where each lot is one line."""
    lines = _Lines()
    template, lot_runs, new_lot_runs = lines.template, lines.lot_runs, lines.new_lot_runs
    with _reading(session, filters, None) as (entry_rows, lot_rows, source_rows):
        lot, source = next(lot_rows, None), next(source_rows, None)
        batch: list[str] = []
        for row in entry_rows:
            entry_id = row[0]
            found = []
            while source is not None and source[0] <= entry_id:
                if source[0] == entry_id:
                    found.append(source[1])
                source = next(source_rows, None)
            line = template(row, SOURCE_SEPARATOR.join(found))
            while lot is not None and lot[0] < entry_id:  # none: a lot comes with its entry
                lot = next(lot_rows, None)
            if lot is None or lot[0] != entry_id:
                batch.append(line % _NO_LOT_RUNS)
            else:
                while lot is not None and lot[0] == entry_id:
                    values = lot[1:]
                    batch.append(line % (lot_runs.get(values) or new_lot_runs(values)))
                    lot = next(lot_rows, None)
            if len(batch) >= 2000:
                yield batch
                batch = []
        if batch:
            yield batch


def _lot_cells(values: Sequence[Any], cell: _Cells) -> list[str]:
    """A lot's cells (:data:`LOT_EXPORT_COLUMNS`) from its :data:`_LOT_VALUES` (its row after
    its entry's id): its own period from its two columns."""
    (number, vendor, model, chips, qualifier, announced_chips, unit, status, start, precision) = values
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
    """A field's columns as the export reads them: texts as they are, but empty where there
    is none; others as the database gives them, converted once an entry."""
    columns = [Entry.__table__.c[name] for name in field.table_columns]
    if field.stored in (Stored.TEXT, Stored.CHOICE):
        return [sa.func.coalesce(column, "").label(column.key) for column in columns]
    return [sa.type_coerce(column, NullType()).label(column.key) for column in columns]


@contextlib.contextmanager
def _reading(
    session: Session, filters: Filters, ids: Sequence[str] | None
) -> Iterator[tuple[Iterator[Any], Iterator[Any], Iterator[Any]]]:
    """The rows of the export's three queries, each in entry id order (bytewise), to read side
    by side: its entries (their id, then the columns of :data:`_READ` as the database gives
    them), their lots (their entry's id and :data:`_LOT_VALUES`, in order) and their sources
    (their entry's id and reference, in order; of entries left out too, but for ``ids``).

    Entries and lots are read apart (an entry's fields are not read again with each of its
    lots); an entry is exported when it has no lots and ``filters`` keep it, or when they
    keep one of its lots.
    """
    conditions = filters.lot_conditions(planned_only=False)
    if ids is not None:
        conditions.append(Entry.id.in_(ids))
    entries = sa.select(Entry.id, *(column for field in _READ for column in _stored_columns(field))).order_by(
        bytewise(session, Entry.id)
    )
    lots = sa.select(ChipLot.entry_id, *_LOT_VALUES)
    if conditions:
        kept = sa.select(Entry.id).outerjoin(ChipLot, ChipLot.entry_id == Entry.id).where(*conditions)
        entries = entries.where(Entry.id.in_(kept))
        lots = lots.join(Entry, ChipLot.entry_id == Entry.id).where(*conditions)
    # Without conditions on entries, lots are read alone (by their index on entry_id and lot).
    lots = lots.order_by(bytewise(session, ChipLot.entry_id), ChipLot.lot)
    sources = (
        sa.select(EntrySource.entry_id, Source.reference)
        .join(Source, Source.id == EntrySource.source_id)
        .order_by(bytewise(session, EntrySource.entry_id), bytewise(session, Source.reference))
    )
    if ids is not None:
        sources = sources.where(EntrySource.entry_id.in_(ids))
    # Every result is closed when the rows stop, at the end or early (a reader gone, a full
    # disk): closed later, once the connection is gone, each would fail with a traceback.
    with contextlib.ExitStack() as results:
        source_rows = _stream(session, sources, results)
        lot_rows = _stream(session, lots, results)
        yield _stream(session, entries, results), lot_rows, source_rows


def _entries(
    session: Session, filters: Filters, ids: Sequence[str] | None
) -> Generator[tuple[Any, str, list[Any]], None, None]:
    """Each entry of the export in order (:func:`_reading`): its row, its sources' cell and
    its lots' rows."""
    with _reading(session, filters, ids) as (entry_rows, lot_rows, source_rows):
        lots, sources = _ByEntry(lot_rows), _ByEntry(source_rows)
        for row in entry_rows:
            entry_id = row[0]
            found = [source for _, source in sources.take(entry_id)]
            yield row, SOURCE_SEPARATOR.join(found), lots.take(entry_id)


class _ByEntry:
    """Rows in entry id order (bytewise, as Python compares), taken an entry at a time."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._head = next(rows, None)

    def take(self, entry_id: str) -> list[Any]:
        """The rows of ``entry_id``, those of ids before it skipped; asked for ids in order."""
        found = []
        head, rows = self._head, self._rows
        while head is not None and head[0] <= entry_id:
            if head[0] == entry_id:
                found.append(head)
            head = next(rows, None)
        self._head = head
        return found


def _stream(session: Session, query: sa.Executable, results: contextlib.ExitStack) -> Iterator[Any]:
    """The rows of a query, read a batch at a time (on PostgreSQL, by a server-side cursor):
    Core rows, not ORM ones, since an export reads every lot. The result is closed with
    ``results``."""
    result = results.enter_context(session.connection().execute(query.execution_options(yield_per=2000)))
    return itertools.chain.from_iterable(result.partitions())


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


def write_export(session: Session, filters: Filters, handle: IO[str]) -> int:
    """Write the export CSV (header and rows) to an open text file; returns the row count."""
    csv.writer(handle, lineterminator="\n").writerow(EXPORT_COLUMNS)
    count = 0
    # Closed here, while the session's connection is open, whatever stops the writing.
    with contextlib.closing(_line_batches(session, filters)) as batches:
        for batch in batches:
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
