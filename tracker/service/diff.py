"""What changed between two states of the data: entries added, removed and changed (each
changed field with its old and new value), and the net chips by country and by vendor.

A state is read from a database (:func:`snapshot`), as the export writes its entries and as
the summary counts its chips (every chip once). Two files are compared by loading each into
a scratch database of its own (:mod:`tracker.service.diffing`), so that a tracker export, a
dump and an Epoch release are each read exactly as an import or a restore reads them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tracker.model.fields import EXPORT_COLUMNS, EXPORT_FIELDS, LOT_EXPORT_COLUMNS
from tracker.model.vocabulary import Qualifier
from tracker.service.bulk import chunks
from tracker.service.export import export_rows
from tracker.service.filters import Filters
from tracker.service.formats.tracker import restored_cells
from tracker.service.programmes import Amount, total
from tracker.service.reading import SOURCE_SEPARATOR
from tracker.service.summary import summarise
from tracker.service.tables import Count, Net, PeopleView, Table

_ENTRY_COLUMNS = [column for column in EXPORT_COLUMNS if column in EXPORT_FIELDS and column != "id"]
_AT = {column: place for place, column in enumerate(EXPORT_COLUMNS)}
NET_KEYS = ("country", "vendor")
MULTI_COUNTRY = "(multi-country)"  # a programme with a region scope, as the summary shows it


@dataclass(frozen=True)
class _Entry:
    """An entry as the export writes it: its own cells, and its lots' cells by number."""

    cells: dict[str, str]
    lots: dict[str, dict[str, str]]

    def summary(self) -> str:
        """In a few words, as `tracker changes` gives an entry added or removed."""
        amount = total(
            Amount(int(lot["chips"]), Qualifier(lot["qualifier"] or "exact"))
            for lot in self.lots.values()
            if lot["chips"]
        )
        count = amount.qualifier.phrase(f"{amount.chips:,} chips") if self.lots else "no chip count"
        return f"{self.cells['name']}, {self.cells['country'] or self.cells['scope']}, {count}"


@dataclass(frozen=True)
class Snapshot:
    """What a database holds, for comparing: its entries, and its planned chips (counted
    as the summary counts them) by country and by vendor."""

    entries: dict[str, _Entry]
    net: dict[str, dict[str | None, Amount]]  # by key (country, vendor), by its value


def snapshot(session: Session, ids: Sequence[str] | None = None) -> Snapshot:
    """The entries of the database (``ids``: only those), and its planned chips."""
    entries: dict[str, _Entry] = {}
    every = itertools.chain.from_iterable(
        export_rows(session, Filters(), chunk) for chunk in ([None] if ids is None else chunks(ids))
    )
    for cells in every:
        row = restored_cells(cells)  # as the fields are, not made inert for spreadsheets
        entry_id = row[_AT["id"]]
        if entry_id not in entries:
            entries[entry_id] = _Entry({column: row[_AT[column]] for column in _ENTRY_COLUMNS}, {})
        if row[_AT["lot"]]:
            entries[entry_id].lots[row[_AT["lot"]]] = {
                column: row[_AT[column]] for column in LOT_EXPORT_COLUMNS
            }
    net: dict[str, dict[str | None, Amount]] = {}
    for key in NET_KEYS:
        rows, _ = summarise(session, Filters(), (key,), with_total=False)
        net[key] = {None if row.keys[0] is None else str(row.keys[0]): row.amount for row in rows}
    return Snapshot(entries, net)


@dataclass(frozen=True)
class Difference:
    """One thing that differs: an entry ``added`` or ``removed`` (old or new: the entry in a
    few words), or ``changed``: one field (of lot ``lot``, for a lot's), old and new value
    (for the sources: those removed, and those added)."""

    entry_id: str
    name: str
    change: str
    field: str = ""
    lot: str = ""
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class Diff:
    """Everything that differs between two snapshots, and the chips by country and vendor
    on each side (only the values whose chips differ)."""

    differences: list[Difference] = field(default_factory=list)
    net: dict[str, list[tuple[str | None, Amount, Amount]]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Entries added, removed and changed."""
        changed = {d.entry_id for d in self.differences if d.change == "changed"}
        return {
            "added": sum(d.change == "added" for d in self.differences),
            "removed": sum(d.change == "removed" for d in self.differences),
            "changed": len(changed),
        }


def changes_made(session: Session, write: Callable[[], Iterable[str]]) -> Diff:
    """What ``write`` changes in the database (the ids of the entries it may change are what
    it returns), worked out and then undone: the database is left as it was."""
    savepoint = session.begin_nested()
    try:
        ids = sorted(set(write()))
        after = snapshot(session, ids)
    finally:
        savepoint.rollback()
    return compare(snapshot(session, ids), after)


def compare(old: Snapshot, new: Snapshot) -> Diff:
    """What differs from ``old`` to ``new``, entries in id order (bytewise)."""
    differences: list[Difference] = []
    for entry_id in sorted(old.entries.keys() | new.entries.keys(), key=lambda text: text.encode()):
        before, after = old.entries.get(entry_id), new.entries.get(entry_id)
        if before is None and after is not None:
            differences.append(Difference(entry_id, after.cells["name"], "added", new=after.summary()))
        elif after is None and before is not None:
            differences.append(Difference(entry_id, before.cells["name"], "removed", old=before.summary()))
        elif before is not None and after is not None:
            differences.extend(_changed(entry_id, before, after))
    net = {key: _net(old.net[key], new.net[key]) for key in NET_KEYS}
    return Diff(differences, net)


def _changed(entry_id: str, before: _Entry, after: _Entry) -> Iterable[Difference]:
    name = after.cells["name"]
    for column in _ENTRY_COLUMNS:
        old, new = before.cells[column], after.cells[column]
        if old == new:
            continue
        if column == "sources":  # the sources removed and those added, not both whole lists
            old_sources, new_sources = old.split(SOURCE_SEPARATOR), new.split(SOURCE_SEPARATOR)
            old = SOURCE_SEPARATOR.join(
                source for source in old_sources if source and source not in new_sources
            )
            new = SOURCE_SEPARATOR.join(
                source for source in new_sources if source and source not in old_sources
            )
        yield Difference(entry_id, name, "changed", column, "", old, new)
    for number in sorted(before.lots.keys() | after.lots.keys(), key=int):
        old_lot, new_lot = before.lots.get(number), after.lots.get(number)
        for column in LOT_EXPORT_COLUMNS[1:]:
            old_cell = old_lot[column] if old_lot else ""
            new_cell = new_lot[column] if new_lot else ""
            if old_cell != new_cell:
                yield Difference(entry_id, name, "changed", column, number, old_cell, new_cell)


def _net(
    old: dict[str | None, Amount], new: dict[str | None, Amount]
) -> list[tuple[str | None, Amount, Amount]]:
    """The values whose chips differ (in number, or in how exactly they are known), with their
    chips on each side, the largest change first."""
    rows = [
        (value, before, after)
        for value in old.keys() | new.keys()
        for before, after in [(old.get(value, Amount()), new.get(value, Amount()))]
        if (before.chips, before.qualifier) != (after.chips, after.qualifier)
    ]
    return sorted(rows, key=lambda row: (-abs(row[2].chips - row[1].chips), row[0] or ""))


def differences_table(diff: Diff) -> Table:
    """The entries added, removed and changed, a row per field changed."""
    columns = ("entry", "name", "change", "field", "lot", "old", "new")
    values = [(d.entry_id, d.name, d.change, d.field, d.lot, d.old, d.new) for d in diff.differences]
    counts = diff.counts
    notes = (f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed (entries).",)
    return Table(columns, values, notes=notes)


def net_table(diff: Diff, key: str) -> Table:
    """The planned chips by ``key`` (country or vendor) that differ: old, new and the net."""
    columns = (key, "old_chips", "new_chips", "net_chips", "old_qualifier", "new_qualifier")
    rows = diff.net[key]
    values = [
        (value, old.chips, new.chips, new.chips - old.chips, old.qualifier.value, new.qualifier.value)
        for value, old, new in rows
    ]
    people = PeopleView(
        (key, "old_chips", "new_chips", "net_chips"),
        [
            (
                MULTI_COUNTRY if value is None else value,
                Count(old.chips, old.qualifier.value),
                Count(new.chips, new.qualifier.value),
                Net(new.chips - old.chips),
            )
            for value, old, new in rows
        ],
    )
    return Table(columns, values, people=people)
