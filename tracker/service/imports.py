"""Importing entries from files: every row checked first, then stored in one transaction.

A reader turns a file into :class:`ParsedEntry` items (this module reads the export
format; :mod:`tracker.service.epoch` reads Epoch AI's GPU clusters). :func:`import_entries`
stores them through bulk inserts, compares each with what is stored, and raises
:class:`~tracker.errors.FileRejected` with every problem when any row is bad, so that
the caller's transaction, rolled back, leaves the database as it was.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import enum
import itertools
import marshal
import operator
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import FileProblem, FileRejected, InvalidInput, InvalidValue, RowProblem, TrackerError
from tracker.model.cells import restore
from tracker.model.names import slugify
from tracker.model.tables import ChipLot, Entry, EntryChange, EntrySource, Source, StatusEvent, utc_now
from tracker.model.vocabulary import Qualifier, Status
from tracker.service.catalogue import Catalogue, load_catalogue
from tracker.service.database import insert_new, one_import_at_a_time
from tracker.service.entries import (
    ENTRY_VALUE_COLUMNS,
    SOURCE_SEPARATOR,
    EntryInput,
    LotInput,
    entry_columns,
    entry_fields,
    entry_values,
    lot_numbers,
    parent_problem,
    place_problem,
    read_entry,
    read_lot,
    read_sources,
)
from tracker.service.export import EXPORT_COLUMNS, entry_rows, export_rows
from tracker.service.filters import Filters

BATCH_SIZE = 10_000  # entries compared and inserted together
PARAMETERS_PER_QUERY = 900  # ids in one IN (...), well inside every database's limit
# The chip lot table's columns that an import fills, in the order of its rows.
LOT_INSERT_COLUMNS = (
    "entry_id", "lot", "vendor", "model", "quantity", "qualifier", "announced_quantity", "announced_unit",
)  # fmt: skip
LOT_COLUMNS = ("lot", "vendor", "model", "chips", "qualifier", "announced_chips", "announced_unit")
ENTRY_COLUMNS = tuple(column for column in EXPORT_COLUMNS if column not in LOT_COLUMNS)
REQUIRED_COLUMNS = ("name", "country")

# The tables themselves, for Core bulk statements.
ENTRY_TABLE = cast(sa.Table, Entry.__table__)
LOT_TABLE = cast(sa.Table, ChipLot.__table__)
LINK_TABLE = cast(sa.Table, EntrySource.__table__)
SOURCE_TABLE = cast(sa.Table, Source.__table__)
EVENT_TABLE = cast(sa.Table, StatusEvent.__table__)
CHANGE_TABLE = cast(sa.Table, EntryChange.__table__)

Progress = Callable[[int], None]  # told how many more characters of the file were read


class OnConflict(str, enum.Enum):
    """What to do with an entry stored under the same id with other values."""

    UPDATE = "update"  # replace the stored entry with the file's
    SKIP = "skip"  # keep the stored entry


@dataclass(frozen=True)
class ParsedEntry:
    """One entry read from a file, or the problems that kept it from being read."""

    line: int  # where the entry's first row starts
    entry: EntryInput | None
    problems: tuple[RowProblem, ...] = ()
    # The columns the file speaks for: a stored entry keeps its values of the others.
    columns: frozenset[str] = frozenset(EXPORT_COLUMNS)
    adds_sources: bool = False  # the file's sources are added to the stored ones, not put in their place


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do), counted in entries."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # conflicts kept as stored (--on-conflict skip)
    rejected: list[RowProblem] = field(default_factory=list)  # rows left out (skip_invalid)
    ids: set[str] = field(default_factory=set)  # of every entry the file gives, stored or not

    rejected_entries: int = 0  # entries left out (skip_invalid)


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
    importer = _Importer(session, on_conflict, skip_invalid)
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


class Reader(Protocol):
    """Reads entries from a file of one format (the export format, Epoch AI's CSV...)."""

    def __call__(
        self,
        handle: TextIO,
        catalogue: Catalogue,
        *,
        name: str,
        progress: Progress | None = None,
        gather: bool = False,
    ) -> Iterator[ParsedEntry]: ...


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
    counted = _CountedProgress(progress)
    try:
        with session.begin_nested():
            entries = read(handle, catalogue, name=name, progress=counted)
            return import_entries(
                session, entries, name=name, on_conflict=on_conflict, skip_invalid=skip_invalid
            )
    except RowsApart:
        handle.seek(0)
        counted.rewind()
        entries = read(handle, catalogue, name=name, progress=counted, gather=True)
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


class _Importer:
    """Checks entries as they come and stores them a batch at a time, until a problem is found."""

    def __init__(self, session: Session, on_conflict: OnConflict | None, skip_invalid: bool) -> None:
        self.session = session
        self.on_conflict = on_conflict
        self.skip_invalid = skip_invalid
        self.problems: list[RowProblem] = []
        self.result = ImportResult()
        self.lines: dict[str, int] = {}  # id -> line, of every entry of the file
        self.parents: dict[str, str] = {}  # of the entries added or replaced
        self.kinds: dict[str, str | None] = {}  # of the entries added or replaced
        self.added_ids: set[str] = set()
        self.replaced_ids: set[str] = set()  # stored entries the file changes
        self.new_sources: set[str] = set()  # sources this import added
        self.fatal = 0  # problems --skip-invalid cannot leave out
        self.left_out: set[str] = set()  # entries of the file found wrong once compared with the stored
        self.batch: list[tuple[str, ParsedEntry, EntryInput]] = []
        one_import_at_a_time(session)
        self.read_stored = _GroupReader(load_catalogue(session), EXPORT_COLUMNS)
        self.now = utc_now()
        # The ids stored before the import: one query, not one a batch.
        self.existing = set(session.scalars(sa.select(Entry.id)))
        self.indexes_to_make = _drop_indexes_of_empty_tables(session) if not self.existing else []
        if session.get_bind().dialect.name == "postgresql":
            # The planner's statistics do not count the rows this transaction adds, so as the
            # tables grow it would scan them whole for every lookup (and foreign key check).
            session.execute(sa.text("SET LOCAL enable_seqscan = off"))

    def report(self, *problems: RowProblem) -> None:
        """The problems of one entry: it is left out (``skip_invalid``), or the file refused."""
        (self.result.rejected if self.skip_invalid else self.problems).extend(problems)
        self.result.rejected_entries += self.skip_invalid

    def take(self, item: ParsedEntry) -> None:
        if item.problems or item.entry is None:
            self.report(*item.problems)
            return
        entry = item.entry
        entry_id = entry.id or slugify(entry.name)
        if not entry_id:
            self.report(
                RowProblem(item.line, "id", f"cannot make an id from the name {entry.name!r}; give one")
            )
            return
        if entry_id in self.lines:
            # Rows that give an id are gathered by it: one of the two made the id from its name.
            made = f" (made from the name {entry.name!r})" if not entry.id else ""
            other = "" if not entry.id else ", made from that row's name"
            self.report(
                RowProblem(
                    item.line,
                    "id",
                    f"{entry_id!r}{made} is also the id of line {self.lines[entry_id]}{other}; "
                    "a row without an id is an entry of its own: give each its own id",
                )
            )
            return
        self.lines[entry_id] = item.line
        self.batch.append((entry_id, item, entry))
        if len(self.batch) >= BATCH_SIZE:
            self._store_batch()

    def finish(self) -> None:
        self._store_batch()
        for statement in self.indexes_to_make:
            self.session.execute(sa.text(statement))
        bad_parents = self._parent_problems()
        if self.skip_invalid:
            bad_parents = self._leave_out(bad_parents)
        unskippable = {
            entry_id: problem for entry_id, problem in bad_parents.items() if entry_id in self.replaced_ids
        }
        unskippable.update(self._kind_problems())
        self.fatal = len(unskippable)
        self.problems.extend(sorted({**bad_parents, **unskippable}.values()))
        if not self.problems:
            self._set_parents()

    def _leave_out(self, bad_parents: dict[str, RowProblem]) -> dict[str, RowProblem]:
        """Take back the entries just added whose parent is wrong, with those whose parent is
        one of them; returns the problems that cannot be left out: a stored entry updated to a
        wrong parent was changed already."""
        left_out = {entry_id for entry_id in bad_parents if entry_id in self.added_ids}
        while more := {
            entry_id
            for entry_id, parent in self.parents.items()
            if parent in left_out and entry_id not in bad_parents
        }:
            for entry_id in more:
                parent = self.parents[entry_id]
                message = f"{parent!r} has a problem of its own (line {self.lines[parent]})"
                bad_parents[entry_id] = RowProblem(self.lines[entry_id], "parent", message)
            left_out |= more & self.added_ids
        for chunk in _chunks(sorted(left_out)):
            self.session.execute(sa.delete(ENTRY_TABLE).where(ENTRY_TABLE.c.id.in_(chunk)))
        self._remove_unused_sources()
        self.result.rejected.extend(bad_parents.pop(entry_id) for entry_id in sorted(left_out))
        self.result.rejected_entries += len(left_out)
        self.result.added -= len(left_out)
        for entry_id in left_out:
            del self.parents[entry_id], self.lines[entry_id]
        return {
            entry_id: problem._replace(
                message=f"{problem.message}; an update is never left out: correct or remove the row"
            )
            for entry_id, problem in bad_parents.items()
        }

    def _store_batch(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        stored_ids = [entry_id for entry_id, _, _ in batch if entry_id in self.existing]
        _lock_entries(self.session, stored_ids)
        stored = _stored_rows(self.session, stored_ids)
        additions: list[tuple[str, EntryInput]] = []
        replacements: list[tuple[str, EntryInput]] = []
        for entry_id, item, entry in batch:
            rows = stored.get(entry_id)
            if rows is not None:
                entry = _merged(entry, self._stored_entry(rows), item)
            if (problem := place_problem(entry.country, entry.scope, entry.kind)) is not None:
                self.report(RowProblem(item.line, problem.field, problem.message))
                self.left_out.add(entry_id)
                continue
            if rows is None:
                additions.append((entry_id, entry))
                continue
            incoming = entry_rows(entry_id, entry)
            if rows == incoming:
                self.result.unchanged += 1
            elif self.on_conflict is OnConflict.SKIP:
                self.result.skipped += 1
            elif self.on_conflict is OnConflict.UPDATE:
                replacements.append((entry_id, entry))
            else:
                self.report(
                    RowProblem(
                        item.line,
                        "id",
                        f"{entry_id!r} is stored with other values ({_differences(rows, incoming)}); "
                        "--on-conflict update replaces the stored entry, --on-conflict skip keeps it",
                    )
                )
        self.replaced_ids.update(entry_id for entry_id, _ in replacements)
        for entry_id, entry in (*additions, *replacements):
            self.kinds[entry_id] = entry.kind.value if entry.kind else None
            if entry.parent:
                self.parents[entry_id] = entry.parent
        if self.problems:
            return  # nothing more is written; the rest of the file is still checked
        self._insert(additions)
        self.added_ids.update(entry_id for entry_id, _ in additions)
        self._replace(replacements)
        self._record_status_moves(replacements, stored)
        self._record_edits(replacements, stored)
        self.result.added += len(additions)
        self.result.updated += len(replacements)

    def _record_status_moves(
        self, replacements: Sequence[tuple[str, EntryInput]], stored: dict[str, list[list[str]]]
    ) -> None:
        """A status that an update changes joins the entry's history, effective today."""
        place = EXPORT_COLUMNS.index("status")
        moves = [
            {
                "entry_id": entry_id,
                "from_status": stored[entry_id][0][place],
                "to_status": entry.status.value,
                "effective_on": self.now.date(),
                "recorded_at": self.now,
                "source_id": self._new_source_id(entry, stored[entry_id]),
                "note": "set by tracker import",
            }
            for entry_id, entry in replacements
            if stored[entry_id][0][place] != entry.status.value
        ]
        if moves:
            self.session.execute(sa.insert(EVENT_TABLE), moves)

    def _record_edits(
        self, replacements: Sequence[tuple[str, EntryInput]], stored: dict[str, list[list[str]]]
    ) -> None:
        """What an update changes joins the entry's history, as ``tracker update`` records it:
        each field with its old and new value, the lots together, and a source the file adds."""
        edits: list[dict[str, object]] = []
        for entry_id, entry in replacements:
            old_rows, new_rows = stored[entry_id], entry_rows(entry_id, entry)
            source_id = self._new_source_id(entry, old_rows)
            changed = [
                (column, _cell(old_rows[0], column), _cell(new_rows[0], column))
                for column in ENTRY_COLUMNS
                if column not in ("id", "status")  # a status change is a status move
            ]
            changed.append(("lots", _lots_text(old_rows), _lots_text(new_rows)))
            edits.extend(
                {
                    "entry_id": entry_id,
                    "field": column,
                    "old_value": old or None,
                    "new_value": new or None,
                    "changed_at": self.now,
                    "source_id": source_id,
                }
                for column, old, new in changed
                if old != new
            )
        if edits:
            self.session.execute(sa.insert(CHANGE_TABLE), edits)

    def _new_source_id(self, entry: EntryInput, stored_rows: list[list[str]]) -> int | None:
        """The first source the file gives an entry that it did not have: what an update
        made by the file rests on."""
        old = set(_cell(stored_rows[0], "sources").split(SOURCE_SEPARATOR))
        added = [reference for reference in entry.sources if reference not in old]
        return _source_ids(self.session, added[:1], self.new_sources)[added[0]] if added else None

    def _stored_entry(self, rows: list[list[str]]) -> EntryInput:
        """A stored entry read back from its export rows, as a file would give it."""
        parsed = self.read_stored([(0, _restored(row)) for row in rows])
        if parsed.entry is None:
            reasons = "; ".join(f"{column}: {message}" for _, column, message in parsed.problems)
            raise TrackerError(f"the stored entry {rows[0][0]!r} no longer reads as valid ({reasons})")
        return parsed.entry

    def _entry_values(self, entry_id: str, entry: EntryInput) -> dict[str, object]:
        return {**entry_columns(entry_id, entry), **self._set_later()}

    def _set_later(self) -> dict[str, object]:
        # Parents are set once every entry of the file is stored (foreign keys hold throughout).
        return {"parent_id": None, "updated_at": self.now}

    def _insert(self, additions: Sequence[tuple[str, EntryInput]]) -> None:
        if not additions:
            return
        _insert_rows(
            self.session,
            sa.insert(ENTRY_TABLE),
            ENTRY_VALUE_COLUMNS,
            [entry_values(entry_id, entry) for entry_id, entry in additions],
            same={**self._set_later(), "created_at": self.now},
        )
        self._insert_lots_and_sources(additions)

    def _replace(self, replacements: Sequence[tuple[str, EntryInput]]) -> None:
        if not replacements:
            return
        ids = [entry_id for entry_id, _ in replacements]
        for chunk in _chunks(ids):
            self.session.execute(sa.delete(LOT_TABLE).where(ChipLot.entry_id.in_(chunk)))
            self.session.execute(sa.delete(LINK_TABLE).where(EntrySource.entry_id.in_(chunk)))
        table = ENTRY_TABLE
        values = [
            {
                ("key" if column == "id" else column): value
                for column, value in self._entry_values(*pair).items()
            }
            for pair in replacements
        ]
        self.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("key"))
            .values({column: sa.bindparam(column) for column in values[0] if column != "key"}),
            values,
        )
        self._insert_lots_and_sources(replacements)

    def _insert_lots_and_sources(self, entries: Sequence[tuple[str, EntryInput]]) -> None:
        lots = [
            (
                entry_id,
                number,
                lot.vendor,
                lot.model,
                lot.quantity,
                lot.qualifier._value_,  # its value (the value property costs more, once a lot)
                lot.announced[0] if lot.announced else None,
                lot.announced[1]._value_ if lot.announced else None,
            )
            for entry_id, entry in entries
            for number, lot in zip(lot_numbers(entry.lots), entry.lots, strict=True)
        ]
        _insert_rows(self.session, sa.insert(LOT_TABLE), LOT_INSERT_COLUMNS, lots)
        references = sorted({reference for _, entry in entries for reference in entry.sources})
        source_ids = _source_ids(self.session, references, self.new_sources)
        links = [
            (entry_id, source_ids[reference])
            for entry_id, entry in entries
            for reference in dict.fromkeys(entry.sources)
        ]
        _insert_rows(self.session, sa.insert(LINK_TABLE), ("entry_id", "source_id"), links)

    def _remove_unused_sources(self) -> None:
        """Remove the sources this import added that no entry cites any more (those of the
        entries taken back)."""
        unused = sa.select(Source.id).where(
            Source.reference.in_(sa.bindparam("references", expanding=True)),
            ~sa.exists().where(EntrySource.source_id == Source.id),
            ~sa.exists().where(StatusEvent.source_id == Source.id),
            ~sa.exists().where(EntryChange.source_id == Source.id),
        )
        for chunk in _chunks(sorted(self.new_sources)):
            ids = list(self.session.scalars(unused, {"references": list(chunk)}))
            if ids:
                self.session.execute(sa.delete(SOURCE_TABLE).where(SOURCE_TABLE.c.id.in_(ids)))

    def _kind_problems(self) -> dict[str, RowProblem]:
        """A stored programme that the file makes another kind while it still has parts."""
        demoted = [entry_id for entry_id, kind in self.kinds.items() if kind != "programme"]
        problems: dict[str, RowProblem] = {}
        for chunk in _chunks(sorted(set(demoted) & self.replaced_ids)):
            query = sa.select(Entry.parent_id, Entry.id).where(Entry.parent_id.in_(chunk)).order_by(Entry.id)
            parts: dict[str, list[str]] = {}
            for parent, part in self.session.execute(query):
                parts.setdefault(str(parent), []).append(part)
            for entry_id, found in parts.items():
                message = f"{entry_id} has parts ({', '.join(found)}); only a programme has parts"
                problems[entry_id] = RowProblem(self.lines[entry_id], "kind", message)
        return problems

    def _parent_problems(self) -> dict[str, RowProblem]:
        """Each new parent is a programme of the file or of the database, and no entry becomes
        its own ancestor, through the file's entries or the stored ones.

        These problems are found once entries are stored: an entry with one is taken back
        (:meth:`_leave_out`), or the file is rejected.
        """
        problems: dict[str, RowProblem] = {}
        if not self.parents:
            return problems
        ancestors: dict[str, str | None] = dict(self.parents)
        stored: set[str] = set()
        kinds = dict(self.kinds)
        wanted = sorted(set(self.parents.values()) - set(self.parents))
        while wanted:  # walk up the stored ancestors until none is left
            found: dict[str, str | None] = {}
            for chunk in _chunks(wanted):
                query = sa.select(Entry.id, Entry.parent_id, Entry.kind).where(Entry.id.in_(chunk))
                for entry_id, parent, kind in self.session.execute(query):
                    found[entry_id] = parent
                    kinds.setdefault(entry_id, kind)
            stored |= set(found)
            for entry_id, parent in found.items():
                ancestors.setdefault(entry_id, parent)
            wanted = sorted({parent for parent in found.values() if parent and parent not in ancestors})
        for entry_id, parent in self.parents.items():
            line = self.lines[entry_id]
            if parent in self.left_out and parent not in stored:
                message = f"{parent!r} has a problem of its own (line {self.lines[parent]})"
                problems[entry_id] = RowProblem(line, "parent", message)
            elif parent not in stored and parent not in self.lines:
                message = f"no entry has the id {parent!r}, stored or in a valid row of the file"
                problems[entry_id] = RowProblem(line, "parent", message)
            elif (problem := parent_problem(parent, kinds.get(parent))) is not None:
                problems[entry_id] = RowProblem(line, "parent", problem.message)
            elif self._is_own_ancestor(entry_id, ancestors):
                problems[entry_id] = RowProblem(
                    line, "parent", f"{parent!r} makes {entry_id!r} a part of itself"
                )
        return problems

    @staticmethod
    def _is_own_ancestor(entry_id: str, ancestors: dict[str, str | None]) -> bool:
        seen = {entry_id}
        current = ancestors.get(entry_id)
        while current is not None and current not in seen:
            seen.add(current)
            current = ancestors.get(current)
        return current == entry_id

    def _set_parents(self) -> None:
        pairs = [{"key": entry_id, "parent_id": parent} for entry_id, parent in self.parents.items()]
        if pairs:
            table = ENTRY_TABLE
            self.session.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("key"))
                .values(parent_id=sa.bindparam("parent_id")),
                pairs,
            )


def _drop_indexes_of_empty_tables(session: Session) -> list[str]:
    """On SQLite, drop the secondary indexes of the tables an import fills, which are empty
    (no entry is stored); returns the statements that make them again, run once the rows are in.

    Making an index once costs less than keeping it in order row by row (about a second of
    a million lots). The drops are part of the import's transaction, undone with it if it is
    rolled back or killed; other connections see the indexes throughout. Not on PostgreSQL,
    where dropping an index would lock the table against readers until the import ends.
    """
    if session.get_bind().dialect.name != "sqlite":
        return []
    query = sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('entry', 'chip_lot', 'entry_source') ORDER BY name"
    )
    indexes = session.execute(query).all()
    for index_name, _ in indexes:
        session.execute(sa.text(f'DROP INDEX "{index_name}"'))
    return [sql for _, sql in indexes]


def _insert_rows(
    session: Session,
    statement: sa.Insert,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
    *,
    same: Mapping[str, object] | None = None,
) -> None:
    """Insert rows given as tuples in ``columns`` order, with the values ``same`` for every
    row (in place of any the rows give), through the driver's executemany.

    Each value is converted as its column's type has it for the database (a date is text
    on SQLite), a column at a time, and a value every row shares only once: SQLAlchemy's
    handling of each row's parameters costs more than the database's inserting them.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    same = same or {}
    given = list(dict.fromkeys([*columns, *same]))
    compiled = statement.compile(dialect=dialect, column_keys=given)
    names = list(compiled.positiontup or ()) if compiled.positional else given
    converters = {
        name: statement.table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    }
    if not same and names == list(columns) and not any(converters.values()):
        # The rows are the parameters as they are (lots and links on SQLite): not taken apart.
        ordered: Sequence[tuple[object, ...]] = rows
    else:
        by_column = dict(zip(columns, zip(*rows, strict=True), strict=True))

        def values(name: str) -> Iterable[object]:
            convert = converters[name]
            if name in same:
                return itertools.repeat(same[name] if convert is None else convert(same[name]), len(rows))
            return by_column[name] if convert is None else map(convert, by_column[name])

        ordered = list(zip(*(values(name) for name in names), strict=True))
    if compiled.positional:
        connection.exec_driver_sql(str(compiled), ordered)
    else:
        connection.exec_driver_sql(str(compiled), [dict(zip(names, row, strict=True)) for row in ordered])


def _cell(row: list[str], column: str) -> str:
    """A cell of an export row, as its value (without the mark that keeps spreadsheets from
    running it)."""
    return restore(row[EXPORT_COLUMNS.index(column)])


def _lots_text(rows: list[list[str]]) -> str:
    """An entry's lots in a few words: ``1: 10 AMD; 2: at least 500 NVIDIA B200``."""
    return "; ".join(
        f"{_cell(row, 'lot')}: {Qualifier(_cell(row, 'qualifier')).phrase(_cell(row, 'chips'))} "
        + " ".join(filter(None, (_cell(row, "vendor"), _cell(row, "model"))))
        for row in rows
        if _cell(row, "chips")
    )


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), PARAMETERS_PER_QUERY):
        yield items[start : start + PARAMETERS_PER_QUERY]


def _lock_entries(session: Session, ids: Sequence[str]) -> None:
    """Lock the stored entries an import compares with the file until it ends (PostgreSQL's
    FOR UPDATE, in id order so that two writers never wait on each other), so that what it
    records of their history follows from what was stored; SQLite's write lock does already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for chunk in _chunks(sorted(ids)):
        session.execute(sa.select(Entry.id).where(Entry.id.in_(chunk)).order_by(Entry.id).with_for_update())


def _stored_rows(session: Session, ids: Sequence[str]) -> dict[str, list[list[str]]]:
    """The export rows of these stored entries."""
    stored: dict[str, list[list[str]]] = {}
    for chunk in _chunks(ids):
        for row in export_rows(session, Filters(), ids=chunk):
            stored.setdefault(row[0], []).append(row)
    return stored


def _differences(stored: list[list[str]], incoming: list[list[str]]) -> str:
    """How a file's entry differs from the stored one, as a person would say it."""
    same_lots = len(stored) == len(incoming)
    differing = [
        f"{column} differs"
        for place, column in enumerate(EXPORT_COLUMNS)
        if (same_lots or column in ENTRY_COLUMNS)
        and [row[place] for row in stored][: len(incoming)] != [row[place] for row in incoming][: len(stored)]
    ]
    if not same_lots:
        chips = EXPORT_COLUMNS.index("chips")
        lots = [sum(1 for row in rows if row[chips]) for rows in (incoming, stored)]
        differing.append(f"{lots[0]} chip lot(s) in the file, {lots[1]} stored")
    return ", ".join(differing)


# The entry fields that stand for each column of the export format.
_FIELDS = {
    column: field
    for column, field in zip(ENTRY_COLUMNS, (
        "id", "name", "operator", "country", "city", "kind", "sponsor", "parent", "status",
        "confidence", "announced", "online", "power_mw", "sources", "notes", "scope",
    ), strict=True)
}  # fmt: skip


def _merged(entry: EntryInput, stored: EntryInput, item: ParsedEntry) -> EntryInput:
    """The file's entry, with the stored values of the columns the file does not have (and,
    where the file adds sources, the stored sources too). A file with chip columns gives the
    entry's whole list of lots."""
    if item.columns & set(LOT_COLUMNS) and "lot" not in item.columns and len(entry.lots) == len(stored.lots):
        # Lots without numbers are the stored lots in their order, under their stored numbers.
        numbered = zip(entry.lots, lot_numbers(stored.lots), strict=True)
        entry = dataclasses.replace(
            entry, lots=tuple(dataclasses.replace(lot, number=n) for lot, n in numbered)
        )
    kept = {
        field: getattr(stored, field)
        for column, field in _FIELDS.items()
        if column not in item.columns and column != "id"
    }
    if not item.columns & set(LOT_COLUMNS):
        kept["lots"] = stored.lots
    elif missing := {"model", "qualifier", "announced_unit"} - item.columns:
        # A lot of the same number and vendor keeps its model, qualifier and count as announced
        # (for the same number of accelerators) when the file lacks them.
        stored_lots = {
            (number, lot.vendor): lot
            for number, lot in zip(lot_numbers(stored.lots), stored.lots, strict=True)
        }
        kept["lots"] = tuple(
            _with_stored(lot, match, missing) if (match := stored_lots.get((number, lot.vendor))) else lot
            for number, lot in zip(lot_numbers(entry.lots), entry.lots, strict=True)
        )
    if item.adds_sources:
        kept["sources"] = (*stored.sources, *entry.sources)
    return dataclasses.replace(entry, **kept)


def _with_stored(lot: LotInput, stored: LotInput, missing: set[str]) -> LotInput:
    """A file's lot with the stored lot's fields of the columns the file lacks (``missing``):
    its model, qualifier, and count as announced where the accelerators are the same."""
    model = stored.model if "model" in missing else lot.model
    same_chips = lot.quantity == stored.quantity and model == stored.model
    return dataclasses.replace(
        lot,
        model=model,
        qualifier=stored.qualifier if "qualifier" in missing else lot.qualifier,
        announced=stored.announced if "announced_unit" in missing and same_chips else lot.announced,
    )


def _source_ids(session: Session, references: Sequence[str], added: set[str]) -> dict[str, int]:
    """The ids of these sources, adding those not stored yet to the database and to ``added``
    (another import adding the same source at the same moment is no conflict)."""
    found = _stored_source_ids(session, references)
    missing = [reference for reference in references if reference not in found]
    added.update(missing)
    if missing:
        statement = insert_new(session, SOURCE_TABLE, "reference")
        _insert_rows(session, statement, ("reference",), [(reference,) for reference in missing])
        found.update(_stored_source_ids(session, missing))
    return found


def _stored_source_ids(session: Session, references: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(references):
        query = sa.select(Source.reference, Source.id).where(Source.reference.in_(chunk))
        found.update((reference, source_id) for reference, source_id in session.execute(query))
    return found


# The export format -------------------------------------------------------------------


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
    read_group = _GroupReader(catalogue, columns)
    id_place = columns.index("id") if "id" in columns else None
    rows = _rows_of_entries(records, columns, id_place)
    for group in _gathered(rows, name) if gather else _adjacent(rows):
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
        cells = _restored(cells)
        yield (cells[id_place].strip() if id_place is not None else ""), (line, cells)


def _adjacent(rows: Iterable[tuple[str, Row] | RowProblem]) -> Iterator[Group | RowProblem]:
    """The rows of each entry, taken as they come: an entry's rows must follow one another.

    Raises :class:`RowsApart` at the first row of an entry whose rows were given already
    (before anything of the entry could be taken for the whole of it).
    """
    finished: set[str] = set()
    group: Group = []
    group_id = ""
    for item in rows:
        if isinstance(item, RowProblem):
            yield item
            continue
        entry_id, row = item
        if group and (not entry_id or entry_id != group_id):
            yield group
            if group_id:
                finished.add(group_id)
            group = []
        if not group:
            if entry_id and entry_id in finished:
                raise RowsApart(entry_id)
            group_id = entry_id
        group.append(row)
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


MAX_LINE_CHARACTERS = 1_000_000  # a line of a file to import, so that memory stays flat
MAX_CELL_CHARACTERS = 131_072  # a cell (the csv module's own limit), over several lines too
# What a byte that is not UTF-8 becomes when a file is opened with errors="surrogateescape".
_UNDECODED = re.compile("[\udc80-\udcff]")

Record = tuple[int, list[str]]  # a record of a CSV file: the line it starts on, its cells


def csv_records(handle: TextIO, name: str, progress: Progress | None) -> Iterator[Record | RowProblem]:
    """The records of a CSV file with the line each starts on, blank ones skipped; a record
    holding bytes that are not UTF-8 is a problem instead (``handle`` opened with
    ``errors="surrogateescape"``), so that each is told with its line.

    Read strictly: a quoted cell never closed would otherwise swallow the rest of the
    file into one cell; it rejects the file, naming the line where the record starts, as
    does a line or a cell too long to be one (:data:`MAX_LINE_CHARACTERS`,
    :data:`MAX_CELL_CHARACTERS`).
    """
    undecoded: list[int] = []  # lines holding bytes that are not UTF-8, in order
    reader = csv.reader(_lines(handle, name, progress, undecoded), strict=True)
    line = 1
    header: list[str] = []
    try:
        for cells in reader:
            if undecoded and undecoded[0] <= reader.line_num:
                yield _undecoded_problem(undecoded[0], cells, header)
                del undecoded[: bisect.bisect_right(undecoded, reader.line_num)]
            # A cell that is not blank (the first, most often: no need to join them all).
            elif (cells and cells[0].strip()) or "".join(cells).strip():
                header = header or cells
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            problem = f"holds a cell longer than {MAX_CELL_CHARACTERS:,} characters, the most a cell may hold"
        else:
            hint = "; a quoted cell may never be closed" if "end of data" in str(error) else ""
            problem = f"is not valid CSV: {error}{hint}"
        raise FileRejected(name, [RowProblem(line, "row", problem)], fatal=1) from None


def _lines(handle: TextIO, name: str, progress: Progress | None, undecoded: list[int]) -> Iterator[str]:
    """The lines of a file, each at most :data:`MAX_LINE_CHARACTERS` long (a longer one
    rejects the file before it is read whole), telling ``progress`` how much was read and
    ``undecoded`` which lines hold bytes that are not UTF-8."""
    readline = handle.readline
    number = 0
    while text := readline(MAX_LINE_CHARACTERS + 1):
        number += 1
        if len(text) > MAX_LINE_CHARACTERS:
            raise FileRejected(
                name,
                [RowProblem(number, "row", f"is longer than {MAX_LINE_CHARACTERS:,} characters, the most "
                            "a line may hold")],
                fatal=1,  # the file cannot be read on: --skip-invalid cannot leave it out
            )  # fmt: skip
        if progress is not None:
            progress(len(text))
        if not text.isascii() and _UNDECODED.search(text):
            undecoded.append(number)
        yield text


def _undecoded_problem(line: int, cells: Sequence[str], header: Sequence[str]) -> RowProblem:
    """The problem of a record holding bytes that are not UTF-8, naming its column."""
    place, cell = next(
        ((place, cell) for place, cell in enumerate(cells) if _UNDECODED.search(cell)), (0, "")
    )
    column = "header" if not header else (header[place].strip().lstrip("\ufeff") or "row")
    found = _UNDECODED.search(cell)
    byte = f" 0x{ord(found.group()) - 0xDC00:02X}" if found else ""
    return RowProblem(
        line, column, f"holds the byte{byte}, which is not UTF-8 text; save the file as UTF-8 CSV"
    )


def cell_count_problem(line: int, cells: Sequence[str], columns: Sequence[str]) -> RowProblem:
    count = f"{len(cells)} cell{'s' if len(cells) != 1 else ''}"
    return RowProblem(line, "row", f"has {count}; the header has {len(columns)}")


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
        readers = cast("dict[str, Callable[[str], object]]", {**entry_fields(catalogue), "sources": _sources})
        self.readers: list[tuple[str, Callable[[str], object], dict[str, object] | None]] = [
            (_FIELDS[column], readers[column], None if column in _DISTINCT_COLUMNS else {})
            for column in ENTRY_COLUMNS
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


class _GroupReader:
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
                entry = read_entry(dict(zip(ENTRY_COLUMNS, first, strict=True)), self.catalogue, lots=[])
                fields = {name: getattr(entry, name) for name in _FIELDS.values()}
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
        return ParsedEntry(first_line, EntryInput(**fields, lots=tuple(lots)), columns=self.columns)

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


def _restored(cells: list[str]) -> list[str]:
    """A record's cells with :func:`restore` applied (to none, most often: no cell has a quote)."""
    if "'" not in "".join(cells):
        return cells
    return [restore(cell) for cell in cells]


def _located(line: int, problems: Iterable[InvalidValue]) -> Iterator[RowProblem]:
    for problem in problems:
        yield RowProblem(line, problem.field, problem.message)
