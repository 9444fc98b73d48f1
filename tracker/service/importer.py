"""An import's work on the database: each entry compared with the stored one under its id,
checked, and stored a batch at a time, in bulk."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import RowProblem, TrackerError
from tracker.model.fields import EXPORT_COLUMNS, FIELD_COLUMNS
from tracker.model.names import slugify
from tracker.model.tables import ChipLot, Entry, EntryChange, EntrySource, Source, StatusEvent, utc_now
from tracker.service.bulk import (
    CHANGE_TABLE,
    ENTRY_TABLE,
    EVENT_TABLE,
    LINK_TABLE,
    LOT_TABLE,
    SOURCE_TABLE,
    chunks,
    drop_indexes_of_empty_tables,
    insert_rows,
    lock_stored,
    source_ids,
    stored_rows,
)

if TYPE_CHECKING:
    from tracker.service.diff import Diff
from tracker.service.catalogue import load_catalogue
from tracker.service.database import one_import_at_a_time
from tracker.service.entries import entry_columns, entry_values
from tracker.service.export import entry_rows
from tracker.service.formats.base import ParsedEntry
from tracker.service.formats.tracker import ENTRY_COLUMNS, GroupReader, restored_cells
from tracker.service.hierarchy import kind_problems, parent_problems
from tracker.service.merging import cell, differences, lots_text, merged
from tracker.service.operators import OperatorNames
from tracker.service.reading import SOURCE_SEPARATOR, EntryInput, lot_numbers, place_problem

BATCH_SIZE = 10_000  # entries compared and inserted together
# The chip lot table's columns that an import fills, in the order of its rows.
LOT_INSERT_COLUMNS = (
    "entry_id", "lot", "vendor", "model", "quantity", "qualifier", "announced_quantity", "announced_unit",
)  # fmt: skip
OWN_LOT_COLUMNS = ("status", "online_start", "online_precision")  # where a lot differs from its entry


class OnConflict(str, enum.Enum):
    """What to do with an entry stored under the same id with other values."""

    UPDATE = "update"  # replace the stored entry with the file's
    SKIP = "skip"  # keep the stored entry


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
    # Entries of an earlier Epoch import that the file no longer gives (removed with prune).
    stale: list[str] = field(default_factory=list)
    changes: Diff | None = None  # a dry run's: what it would change (tracker.service.diff)


class Importer:
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
        self.operator_names = OperatorNames(session)  # read once, for every batch
        self.read_stored = GroupReader(load_catalogue(session), EXPORT_COLUMNS)
        self.now = utc_now()
        # The ids stored before the import: one query, not one a batch.
        self.existing = set(session.scalars(sa.select(Entry.id)))
        self.indexes_to_make = drop_indexes_of_empty_tables(session) if not self.existing else []
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
        bad_parents = parent_problems(self.session, self.parents, self.kinds, self.lines, self.left_out)
        if self.skip_invalid:
            bad_parents = self._leave_out(bad_parents)
        unskippable = {
            entry_id: problem for entry_id, problem in bad_parents.items() if entry_id in self.replaced_ids
        }
        unskippable.update(kind_problems(self.session, self.kinds, self.replaced_ids, self.lines))
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
        for chunk in chunks(sorted(left_out)):
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
        # Operators by their own names (a name not known yet becomes one), before comparing.
        operators = self.operator_names([entry.values["operator"] for _, _, entry in batch])
        batch = [
            (entry_id, item, entry)
            if not (given := entry.values["operator"]) or operators[given] == given
            else (entry_id, item, entry.replace(operator=operators[given]))
            for entry_id, item, entry in batch
        ]
        stored_ids = [entry_id for entry_id, _, _ in batch if entry_id in self.existing]
        lock_stored(self.session, stored_ids)
        stored = stored_rows(self.session, stored_ids)
        additions: list[tuple[str, EntryInput]] = []
        replacements: list[tuple[str, EntryInput]] = []
        for entry_id, item, entry in batch:
            rows = stored.get(entry_id)
            if rows is not None:
                entry = merged(entry, self._stored_entry(rows), item)
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
                        f"{entry_id!r} is stored with other values ({differences(rows, incoming)}); "
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
                "recorded_at": utc_now(),  # each its own moment, after the entries added
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
                (column, cell(old_rows[0], column), cell(new_rows[0], column))
                for column in ENTRY_COLUMNS
                if column not in ("id", "status")  # a status change is a status move
            ]
            changed.append(("lots", lots_text(old_rows), lots_text(new_rows)))
            edits.extend(
                {
                    "entry_id": entry_id,
                    "field": column,
                    "old_value": old or None,
                    "new_value": new or None,
                    "changed_at": utc_now(),  # each its own moment, after the status moves
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
        old = set(cell(stored_rows[0], "sources").split(SOURCE_SEPARATOR))
        added = [reference for reference in entry.sources if reference not in old]
        return source_ids(self.session, added[:1], self.new_sources)[added[0]] if added else None

    def _stored_entry(self, rows: list[list[str]]) -> EntryInput:
        """A stored entry read back from its export rows, as a file would give it."""
        parsed = self.read_stored([(0, restored_cells(row)) for row in rows])
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
        # Each entry added is recorded at a moment of its own, taken in the file's order, which
        # is the order `tracker changes` lists them in (their ids are text, in no such order).
        insert_rows(
            self.session,
            sa.insert(ENTRY_TABLE),
            (*FIELD_COLUMNS, "created_at"),
            [(*entry_values(entry_id, entry), utc_now()) for entry_id, entry in additions],
            same={**self._set_later(), "updated_at": utc_now()},  # not before any was created
        )
        self._insert_lots_and_sources(additions)

    def _replace(self, replacements: Sequence[tuple[str, EntryInput]]) -> None:
        if not replacements:
            return
        ids = [entry_id for entry_id, _ in replacements]
        for chunk in chunks(ids):
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
        numbered = [
            (entry_id, number, lot)
            for entry_id, entry in entries
            for number, lot in zip(lot_numbers(entry.lots), entry.lots, strict=True)
        ]
        lots: list[tuple[object, ...]] = [
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
            for entry_id, number, lot in numbered
        ]
        columns: tuple[str, ...] = LOT_INSERT_COLUMNS
        if any(lot.status or lot.online for _, _, lot in numbered):
            # Lots of their own status or period: their columns too (most lots have neither, and
            # go in without the conversion a date needs on SQLite).
            columns += OWN_LOT_COLUMNS
            lots = [
                (
                    *row,
                    lot.status._value_ if lot.status else None,
                    lot.online.start if lot.online else None,
                    lot.online.precision._value_ if lot.online else None,
                )
                for row, (_, _, lot) in zip(lots, numbered, strict=True)
            ]
        insert_rows(self.session, sa.insert(LOT_TABLE), columns, lots)
        references = sorted({reference for _, entry in entries for reference in entry.sources})
        found = source_ids(self.session, references, self.new_sources)
        links = [
            (entry_id, found[reference])
            for entry_id, entry in entries
            for reference in dict.fromkeys(entry.sources)
        ]
        insert_rows(self.session, sa.insert(LINK_TABLE), ("entry_id", "source_id"), links)

    def _remove_unused_sources(self) -> None:
        """Remove the sources this import added that no entry cites any more (those of the
        entries taken back)."""
        unused = sa.select(Source.id).where(
            Source.reference.in_(sa.bindparam("references", expanding=True)),
            ~sa.exists().where(EntrySource.source_id == Source.id),
            ~sa.exists().where(StatusEvent.source_id == Source.id),
            ~sa.exists().where(EntryChange.source_id == Source.id),
        )
        for chunk in chunks(sorted(self.new_sources)):
            ids = list(self.session.scalars(unused, {"references": list(chunk)}))
            if ids:
                self.session.execute(sa.delete(SOURCE_TABLE).where(SOURCE_TABLE.c.id.in_(ids)))

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
