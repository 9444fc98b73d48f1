"""The tracker's own file format, what ``tracker export`` writes: a header, then one row per
chip lot, an entry's fields repeated on each of its rows."""

from __future__ import annotations

import itertools
import marshal
import operator
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO, cast

from tracker.errors import FileProblem, FileRejected, InvalidInput, InvalidValue, RowProblem
from tracker.model.cells import restore
from tracker.model.fields import EXPORT_COLUMNS, EXPORT_FIELDS, LOT_EXPORT_COLUMNS
from tracker.model.vocabulary import Status
from tracker.service.catalogue import Catalogue
from tracker.service.formats.base import ParsedEntry, Progress
from tracker.service.formats.csvfile import Record, cell_count_problem, csv_records
from tracker.service.reading import (
    EntryInput,
    LotInput,
    entry_readers,
    lot_numbers,
    read_entry,
    read_lot,
    read_sources,
)

LOT_COLUMNS = LOT_EXPORT_COLUMNS
# The export's columns that are an entry's own fields, in its order, and the field each is.
ENTRY_COLUMNS = tuple(EXPORT_FIELDS)
FIELD_OF_COLUMN = {column: field.name for column, field in EXPORT_FIELDS.items()}
REQUIRED_COLUMNS = ("name", "country")


class RowsApart(Exception):
    """The rows of one entry are not next to one another (a sorted or shuffled file): the
    file must be read again with its rows gathered by id (:func:`import_file` does)."""


def read_export_file(
    handle: TextIO,
    catalogue: Catalogue,
    *,
    name: str,
    progress: Progress | None = None,
    gather: bool = False,
) -> Iterator[ParsedEntry]:
    """Entries from a file in the export format: a header, then one row per chip lot.

    Columns may come in any order; ``name`` and ``country`` are required. The rows of an
    entry share its id, wherever they stand in the file; a row without an id is an entry
    of its own. Read as it comes, a file whose entries' rows are apart raises
    :class:`RowsApart` when the first such row is met; with ``gather``, rows are first
    gathered by id (on disk: a file of any size), each entry where its first row is.
    A header that cannot be read raises :class:`FileRejected` at once.
    """
    records = csv_records(handle, name, progress)
    header = next(records, None)
    if isinstance(header, RowProblem):
        raise FileRejected(name, [header])
    problems = _header_problems(header[1] if header else None)
    if problems or header is None:
        raise FileRejected(name, problems)
    columns = _columns(header[1])
    read_group = GroupReader(catalogue, columns)
    id_place = columns.index("id") if "id" in columns else None
    if gather:
        groups = _gathered(_rows_of_entries(records, columns, id_place), name)
    else:
        groups = _adjacent(records, columns, id_place)
    for group in groups:
        yield ParsedEntry(group.line, None, (group,)) if isinstance(group, RowProblem) else read_group(group)


Row = tuple[int, list[str]]  # a row of an entry: the line it starts on, its cells
Group = list[Row]  # the rows of one entry, in file order


def _rows_of_entries(
    records: Iterator[Record | RowProblem], columns: Sequence[str], id_place: int | None
) -> Iterator[tuple[str, Row] | RowProblem]:
    """Each record with its entry's id (empty when it has none), its cells restored; or the
    problem of a record that cannot be read, or without as many cells as the header."""
    width = len(columns)
    for record in records:
        if isinstance(record, RowProblem):
            yield record
            continue
        line, cells = record
        if len(cells) != width:
            yield cell_count_problem(line, cells, columns)
            continue
        cells = restored_cells(cells)
        yield (cells[id_place].strip() if id_place is not None else ""), (line, cells)


def _adjacent(
    records: Iterator[Record | RowProblem], columns: Sequence[str], id_place: int | None
) -> Iterator[Group | RowProblem]:
    """The rows of each entry, taken as they come (each record as :func:`_rows_of_entries`
    gives it, in one loop: a large file has a million): an entry's rows must follow one another.

    Raises :class:`RowsApart` at the first row of an entry whose rows were given already
    (before anything of the entry could be taken for the whole of it).
    """
    width = len(columns)
    finished: set[str] = set()
    group: Group = []
    group_id = ""
    for record in records:
        if isinstance(record, RowProblem):
            yield record
            continue
        line, cells = record
        if len(cells) != width:
            yield cell_count_problem(line, cells, columns)
            continue
        if "'" in "".join(cells):
            cells = restored_cells(cells)
        entry_id = cells[id_place].strip() if id_place is not None else ""
        if group and (not entry_id or entry_id != group_id):
            yield group
            if group_id:
                finished.add(group_id)
            group = []
        if not group:
            if entry_id and entry_id in finished:
                raise RowsApart(entry_id)
            group_id = entry_id
        group.append((line, cells))
    if group:
        yield group


SPILL_BATCH = 10_000  # rows written to the gathering file at once


def _gathered(rows: Iterable[tuple[str, Row] | RowProblem], name: str) -> Iterator[Group | RowProblem]:
    """The rows of each entry wherever they stand, gathered by id: first the rows without an
    id (each an entry of its own) in file order, then the entries by id, as an export orders
    them (so that they go into the database in the order of its keys), each entry's rows in
    file order.

    The rows wait in a temporary SQLite file, sorted there, so that memory stays flat
    whatever the file's size.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="tracker-import-") as folder:
            store = sqlite3.connect(os.path.join(folder, "rows.db"))
            try:
                store.execute("PRAGMA journal_mode = OFF")
                store.execute("PRAGMA synchronous = OFF")
                store.execute("CREATE TABLE row (entry TEXT, line INTEGER, cells BLOB)")
                pending: list[tuple[str | None, int, bytes]] = []
                for item in rows:
                    if isinstance(item, RowProblem):
                        yield item
                        continue
                    entry_id, (line, cells) = item
                    pending.append((entry_id or None, line, marshal.dumps(cells)))
                    if len(pending) >= SPILL_BATCH:
                        store.executemany("INSERT INTO row VALUES (?, ?, ?)", pending)
                        pending = []
                store.executemany("INSERT INTO row VALUES (?, ?, ?)", pending)
                query = "SELECT entry, line, cells FROM row ORDER BY entry IS NOT NULL, entry, line"
                for entry_id, entries in itertools.groupby(store.execute(query), key=operator.itemgetter(0)):
                    rows_of_entry = [(line, marshal.loads(cells)) for _, line, cells in entries]
                    if entry_id is None:  # rows without an id: each an entry of its own
                        yield from ([row] for row in rows_of_entry)
                    else:
                        yield rows_of_entry
            finally:
                store.close()
    except (OSError, sqlite3.Error) as error:
        problem = f"cannot gather the rows of {name} by id in a temporary file: {error}"
        raise FileProblem("file", problem) from None


def _columns(header: list[str]) -> list[str]:
    return [cell.strip().lstrip("\ufeff").lower() for cell in header]


def _header_problems(header: list[str] | None) -> list[RowProblem]:
    if header is None:
        return [
            RowProblem(
                1, "header", f"is missing: the file is empty; it starts with {','.join(EXPORT_COLUMNS)}"
            )
        ]
    columns = _columns(header)
    cells = [cell.strip().lstrip("\ufeff") for cell in header]
    if len(cells) == 1 and (separator := next((mark for mark in ";\t|" if mark in cells[0]), None)):
        shown = "a tab" if separator == "\t" else repr(separator)
        return [RowProblem(1, "header", f"is one cell, {cells[0]!r}: the file seems separated by {shown}; "
                           "save it as CSV with commas")]  # fmt: skip
    if {"Name", "Chip type (primary)", "Certainty"} <= set(cells):
        return [
            RowProblem(1, "header", "is that of Epoch AI's GPU clusters CSV; import it with --from epoch")
        ]
    problems = []
    listed = False
    for place, (column, cell) in enumerate(zip(columns, cells, strict=True)):
        if column not in EXPORT_COLUMNS:
            known = "" if listed else f"; the columns are {', '.join(EXPORT_COLUMNS)}"
            problems.append(
                RowProblem(1, cell or f"column {place + 1}", f"is not a column of the export format{known}")
            )
            listed = True
        elif columns.index(column) != place:
            problems.append(RowProblem(1, column, "is given twice"))
    problems.extend(
        RowProblem(1, column, "is missing; every entry needs it")
        for column in REQUIRED_COLUMNS
        if column not in columns
    )
    return problems


MAX_REMEMBERED_LOTS = 10_000  # distinct chip lots a reader keeps, read once each
MAX_REMEMBERED_TEXTS = 100_000  # distinct texts of one entry column a reader keeps (a few MB)
_UNREAD = object()  # what a reader has kept for a text it has not read yet
_PROBLEM = object()  # what an entry field's text gave when it has a problem
# The entry columns whose text differs from entry to entry: not worth keeping.
_DISTINCT_COLUMNS = frozenset({"id", "name", "notes"})


class _EntryFields:
    """Reads an entry's own fields from its cells in :data:`ENTRY_COLUMNS` order, with the
    readers of :func:`read_entry`, each distinct text of most columns read once (a large file
    repeats a few countries, statuses, dates and sources).

    Gives the fields by name, or None when any has a problem: :func:`read_entry` then reads
    the cells again, so that the problems are all found, in its order, with its messages.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        readers: dict[str, Callable[[str], object]] = {**entry_readers(catalogue), "sources": _sources}
        self.readers: list[tuple[str, Callable[[str], object], dict[str, object] | None]] = [
            (name, readers[name], None if column in _DISTINCT_COLUMNS else {})
            for column in ENTRY_COLUMNS
            for name in (FIELD_OF_COLUMN[column],)
        ]

    def __call__(self, cells: Sequence[str]) -> dict[str, Any] | None:
        fields: dict[str, Any] = {}
        for (name, read, kept), text in zip(self.readers, cells, strict=True):
            if kept is None:
                value = _read_text(read, text)
            elif (value := kept.get(text, _UNREAD)) is _UNREAD:
                if len(kept) >= MAX_REMEMBERED_TEXTS:
                    kept.clear()
                value = kept[text] = _read_text(read, text)
            if value is _PROBLEM:
                return None
            fields[name] = value
        if fields["name"] is None:  # required
            return None
        fields["status"] = fields["status"] or Status.ANNOUNCED
        fields["sources"] = fields["sources"] or ()
        return fields


def _read_text(read: Callable[[str], object], text: str) -> object:
    """A field's value, as :func:`read_entry` reads it: None for blank text."""
    if not text.strip():
        return None
    try:
        return read(text)
    except InvalidValue:
        return _PROBLEM


def _sources(text: str) -> tuple[str, ...]:
    """The sources of a cell, as :func:`read_entry` reads them."""
    problems: list[InvalidValue] = []
    sources = tuple(read_sources(text, problems))
    if problems:
        raise problems[0]
    return sources


class GroupReader:
    """Reads entries from their rows in the export format, given the file's columns.

    The rows of a large file repeat a few chip lots (vendor, model, count...): each distinct
    lot is read once, and what it gave (a lot, or its problems) is kept by its cells.
    """

    def __init__(self, catalogue: Catalogue, columns: Sequence[str]) -> None:
        self.catalogue = catalogue
        self.columns = frozenset(columns)
        self.entry_cells = _cells_getter(columns, ENTRY_COLUMNS)
        self.lot_cells = _cells_getter(columns, LOT_COLUMNS)
        self.lots: dict[tuple[str, ...], LotInput | tuple[InvalidValue, ...] | None] = {}
        self.entry_fields = _EntryFields(catalogue)

    def __call__(self, group: Sequence[tuple[int, Sequence[str]]]) -> ParsedEntry:
        """One entry from its rows: the entry's fields from the first, a chip lot from each."""
        first_line, first_cells = group[0]
        first = self.entry_cells(first_cells)
        problems: list[RowProblem] = []
        fields = self.entry_fields(first)
        if fields is None:
            try:
                given = {
                    FIELD_OF_COLUMN[column]: text for column, text in zip(ENTRY_COLUMNS, first, strict=True)
                }
                entry = read_entry(given, self.catalogue, lots=[])
                fields = {**entry.values, "sources": entry.sources}
            except InvalidInput as error:
                problems.extend(_located(first_line, error.problems))
        lots: list[LotInput] = []
        numbers: dict[int, int] = {}
        kept = self.lots
        for place, (line, cells) in enumerate(group):
            if place and (cells_of_entry := self.entry_cells(cells)) != first:
                problems.extend(_differing_fields(line, cells_of_entry, first_line, first))
            lot_cells = self.lot_cells(cells)
            lot = kept[lot_cells] if lot_cells in kept else self._read_lot(lot_cells)
            if isinstance(lot, tuple):
                problems.extend(_located(line, lot))
                continue
            if lot is None:
                if len(group) > 1:
                    problems.append(
                        RowProblem(
                            line, "chips", "is empty; only an entry without chip lots has a row without chips"
                        )
                    )
                continue
            if lot.number is not None:
                if lot.number in numbers:
                    problems.append(
                        RowProblem(line, "lot", f"{lot.number} is also the lot of line {numbers[lot.number]}")
                    )
                numbers[lot.number] = line
            lots.append(lot)
        if problems or fields is None:
            return ParsedEntry(first_line, None, tuple(problems), self.columns)
        if len(set(lot_numbers(lots))) != len(lots):
            problem = RowProblem(first_line, "lot", "number every lot of the entry, or none")
            return ParsedEntry(first_line, None, (problem,), self.columns)
        sources = fields.pop("sources")
        return ParsedEntry(first_line, EntryInput(fields, lots=lots, sources=sources), columns=self.columns)

    def _read_lot(self, cells: tuple[str, ...]) -> LotInput | tuple[InvalidValue, ...] | None:
        """The lot of lot cells not read yet (None when they are empty), or the problems they
        have; kept by the cells."""
        if len(self.lots) >= MAX_REMEMBERED_LOTS:
            self.lots.clear()
        lot: LotInput | tuple[InvalidValue, ...] | None
        try:
            lot = read_lot(dict(zip(LOT_COLUMNS, cells, strict=True)), self.catalogue)
        except InvalidInput as error:
            lot = tuple(error.problems)
        self.lots[cells] = lot
        return lot


def _differing_fields(
    line: int, fields: Sequence[str], first_line: int, first: Sequence[str]
) -> Iterator[RowProblem]:
    """The entry fields of a row (in :data:`ENTRY_COLUMNS` order) that are not those of the
    entry's first row, spacing aside."""
    for column, cell, first_cell in zip(ENTRY_COLUMNS, fields, first, strict=True):
        if " ".join(cell.split()) != " ".join(first_cell.split()):
            yield RowProblem(
                line,
                column,
                f"{cell!r} differs from line {first_line} ({first_cell!r}); "
                "the rows of one entry share its fields",
            )


def _cells_getter(
    columns: Sequence[str], wanted: Sequence[str]
) -> Callable[[Sequence[str]], tuple[str, ...]]:
    """What picks the ``wanted`` cells, in their order, from a row of these columns; a column
    the file lacks gives an empty cell."""
    places = [columns.index(column) if column in columns else None for column in wanted]
    if len(places) > 1 and None not in places:
        return cast(Callable[[Sequence[str]], tuple[str, ...]], operator.itemgetter(*places))
    return lambda cells: tuple("" if place is None else cells[place] for place in places)


def restored_cells(cells: list[str]) -> list[str]:
    """A record's cells with :func:`restore` applied (to none, most often: no cell has a quote)."""
    if "'" not in "".join(cells):
        return cells
    return [restore(cell) for cell in cells]


def _located(line: int, problems: Iterable[InvalidValue]) -> Iterator[RowProblem]:
    for problem in problems:
        yield RowProblem(line, problem.field, problem.message)
