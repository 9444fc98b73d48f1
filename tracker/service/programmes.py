"""Programmes counted once (SPEC section 3): a programme's chips are its parts' chips, plus
only the part of its own quantity that its parts do not yet cover.

A programme here is any entry with parts (entries whose parent it is) or with a region scope
instead of a country. They are few, so their count is worked out here, in Python, from their
lots and their parts' lots; every other entry's lots are summed by the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tracker.model.tables import ChipLot, Entry, RegionCountry
from tracker.model.vocabulary import Qualifier
from tracker.service.filters import Filters


@dataclass(frozen=True)
class Amount:
    """A number of chips and how exactly it is known."""

    chips: int = 0
    qualifier: Qualifier = Qualifier.EXACT

    def __add__(self, other: Amount) -> Amount:
        if not other.chips:
            return self
        if not self.chips:
            return other
        return Amount(self.chips + other.chips, self.qualifier.plus(other.qualifier))


def total(amounts: Iterable[Amount]) -> Amount:
    return sum(amounts, Amount())


def programmes() -> sa.Select[tuple[str]]:
    """The ids of entries counted as programmes: those with parts, and those with a scope."""
    child = aliased(Entry)
    with_parts = sa.select(child.parent_id.label("id")).where(child.parent_id.is_not(None))
    scoped = sa.select(Entry.id.label("id")).where(Entry.scope.is_not(None))
    ids = sa.union(with_parts, scoped).subquery()
    return sa.select(ids.c.id)


@dataclass(frozen=True)
class _Lot:
    id: int
    vendor: str
    chips: int
    qualifier: Qualifier


@dataclass
class Coverage:
    """How every programme counts: what its parts count, and what each of its own lots adds."""

    parts: dict[str, Amount] = field(default_factory=dict)  # programme id -> its parts' count
    added: dict[int, Amount] = field(default_factory=dict)  # a programme's lot id -> what it adds
    counted: dict[str, Amount] = field(default_factory=dict)  # entry id -> all it counts

    def adds(self, lot_id: int) -> Amount:
        """What a programme's lot adds to its parts' count."""
        return self.added.get(lot_id, Amount())

    def count_of(self, entry_id: str) -> Amount:
        """All an entry counts (a part of a programme; a programme with its parts)."""
        return self.counted.get(entry_id, Amount())


def coverage(session: Session, as_of: dt.date | None = None) -> Coverage:
    """Work out what each programme counts, with the lots that count on the day ``as_of``
    (today by default): known by then, and neither cancelled nor decommissioned.

    Parts cover their programme's lots of the same vendor first, then any of its lots in
    lot order; what a lot adds carries its qualifier (taking away a lower bound leaves
    an upper bound). A part does not cover more than it counts, however its programme
    was filtered: coverage depends on the data, never on the view.
    """
    programme_ids: set[str] = set(session.scalars(programmes()))
    if not programme_ids:
        return Coverage()
    parents = session.execute(sa.select(Entry.id, Entry.parent_id).where(Entry.parent_id.is_not(None)))
    children: dict[str, list[str]] = defaultdict(list)
    for child, parent in sorted(parents):
        if parent is not None:
            children[parent].append(child)
    parts = sa.select(Entry.id).where(Entry.parent_id.is_not(None))
    lots: dict[str, list[_Lot]] = defaultdict(list)
    query = (
        sa.select(ChipLot.entry_id, ChipLot.id, ChipLot.vendor, ChipLot.quantity, ChipLot.qualifier)
        .join(Entry, ChipLot.entry_id == Entry.id)
        .where(
            sa.or_(Entry.id.in_(programmes()), Entry.id.in_(parts)),
            *Filters(as_of=as_of).lot_conditions(planned_only=True),
        )
        .order_by(ChipLot.entry_id, ChipLot.lot)
    )
    for entry_id, lot_id, vendor, chips, qualifier in session.execute(query):
        lots[entry_id].append(_Lot(lot_id, vendor, chips, Qualifier(qualifier)))
    result = Coverage()
    _Counter(children, lots, result).count_all(sorted(programme_ids))
    return result


class _Counter:
    def __init__(self, children: Mapping[str, list[str]], lots: Mapping[str, list[_Lot]], result: Coverage):
        self.children = children
        self.lots = lots
        self.result = result
        self.by_vendor: dict[str, dict[str, Amount]] = {}
        self.visiting: set[str] = set()

    def count_all(self, programme_ids: Iterable[str]) -> None:
        for entry_id in programme_ids:
            self.count(entry_id)
        for entry_id, amounts in self.by_vendor.items():
            self.result.counted[entry_id] = total(amounts.values())

    def count(self, entry_id: str) -> dict[str, Amount]:
        """What an entry counts, by vendor: its parts', and what its own lots add to them."""
        if entry_id in self.by_vendor:
            return self.by_vendor[entry_id]
        self.visiting.add(entry_id)  # a cycle (refused on every write) would count nothing twice
        parts: dict[str, Amount] = defaultdict(Amount)
        for child in self.children.get(entry_id, ()):
            if child not in self.visiting:
                for vendor, amount in self.count(child).items():
                    parts[vendor] += amount
        self.visiting.discard(entry_id)
        counted = defaultdict(Amount, parts)
        covered_by = total(parts.values()).qualifier
        spare = {vendor: amount.chips for vendor, amount in parts.items()}
        uncovered = {lot.id: lot.chips for lot in self.lots.get(entry_id, ())}
        own = self.lots.get(entry_id, [])
        for lot in own:  # the same vendor's chips first
            taken = min(uncovered[lot.id], spare.get(lot.vendor, 0))
            uncovered[lot.id] -= taken
            spare[lot.vendor] = spare.get(lot.vendor, 0) - taken
        left = sum(spare.values())
        for lot in own:  # then any vendor's, in lot order
            taken = min(uncovered[lot.id], left)
            uncovered[lot.id] -= taken
            left -= taken
        for lot in own:
            qualifier = lot.qualifier if uncovered[lot.id] == lot.chips else lot.qualifier.minus(covered_by)
            adds = Amount(uncovered[lot.id], qualifier)
            self.result.added[lot.id] = adds
            counted[lot.vendor] += adds
        if entry_id in self.children:
            self.result.parts[entry_id] = total(parts.values())
        self.by_vendor[entry_id] = dict(counted)
        return self.by_vendor[entry_id]


def regions_of(session: Session) -> dict[str, list[str]]:
    """The regions each country (``FR``), and each region taken as a programme's scope
    (``eu``), is within: a scope is within a region when every one of its countries is."""
    members: dict[str, set[str]] = defaultdict(set)
    for region, country in session.execute(sa.select(RegionCountry.region_id, RegionCountry.country)):
        members[region].add(country)
    within: dict[str, list[str]] = defaultdict(list)
    for region in sorted(members):
        for country in sorted(members[region]):
            within[country].append(region)
        for scope in sorted(members):
            if members[scope] <= members[region]:
                within[scope].append(region)
    return within
