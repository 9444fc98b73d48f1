"""Programmes counted once: a programme's chips are its parts' chips, plus
only the part of its own quantity that its parts do not yet cover.

A programme here is any entry with parts (entries whose parent it is) or with a region scope
instead of a country. They are few, so their count is worked out here, in Python, from their
lots and their parts' lots; every other entry's lots are summed by the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from tracker.model.tables import ChipLot, Entry, RegionCountry
from tracker.model.vocabulary import INACTIVE_STATUSES, Qualifier
from tracker.service.catalogue import UNKNOWN_VENDOR
from tracker.service.filters import Filters, effective_status
from tracker.service.matching import cover


@dataclass(frozen=True)
class Amount:
    """A number of chips and how exactly it is known.

    A sum keeps the qualifiers of every count in it (``bits``, see :meth:`Qualifier.of_bits`)
    and is qualified by them all at once, so that it is the same in whatever order its
    counts are added: at least 100 plus up to 100 plus up to 100 is about 300 either way.
    """

    chips: int = 0
    qualifier: Qualifier = Qualifier.EXACT
    bits: int = -1  # the qualifiers summed; by default, the qualifier's own

    def __post_init__(self) -> None:
        if self.bits < 0:
            object.__setattr__(self, "bits", self.qualifier.bit)

    @classmethod
    def of_bits(cls, chips: int, bits: int | None) -> Amount:
        """A sum of ``chips`` holding the qualifiers of ``bits`` (:func:`qualifier_bits`)."""
        return cls(chips, Qualifier.of_bits(bits), bits or 0)

    def __add__(self, other: Amount) -> Amount:
        if not other.chips and not other.bits:  # nothing, exactly
            return self
        if not self.chips and not self.bits:
            return other
        return Amount.of_bits(self.chips + other.chips, self.bits | other.bits)


def total(amounts: Iterable[Amount]) -> Amount:
    return sum(amounts, Amount())


def qualifier_bits(column: sa.ColumnElement[str] | InstrumentedAttribute[str]) -> sa.ColumnElement[int]:
    """An aggregate telling which qualifiers the lots summed hold (see :meth:`Qualifier.of_bits`)."""
    bits = sa.case(*((column == choice.value, choice.bit) for choice in Qualifier), else_=0)
    return sa.func.sum(sa.distinct(bits))


def programmes() -> sa.Select[tuple[str]]:
    """The ids of entries counted as programmes: those with parts, and those with a scope."""
    child = aliased(Entry)
    with_parts = sa.select(child.parent_id.label("id")).where(child.parent_id.is_not(None))
    scoped = sa.select(Entry.id.label("id")).where(Entry.scope.is_not(None))
    ids = sa.union(with_parts, scoped).subquery()
    return sa.select(ids.c.id)


def among(
    session: Session,
    entry_id: sa.ColumnElement[str] | InstrumentedAttribute[str],
    programme_ids: Iterable[str],
) -> sa.ColumnElement[bool]:
    """Whether ``entry_id`` is one of the programmes, whose ids were read (``programme_ids``)
    in the same transaction.

    On PostgreSQL, as one array of their ids. The planner then knows they are few, where
    from :func:`programmes` it expects thousands and compiles a query of their lots to
    machine code (JIT), which takes longer than the query; and a query of every other lot
    can run in parallel, which a subquery would prevent. SQLite reads the subquery once."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        ids = sa.bindparam("programme_ids", sorted(programme_ids), type_=postgresql.ARRAY(sa.String))
        return entry_id == sa.any_(ids)
    return entry_id.in_(programmes())


Kind = tuple[str, str | None]  # the chips of a lot: vendor and model (None: not given)
Pool = tuple[bool, str, str | None]  # chips still planned (or not), of a vendor and model


@dataclass(frozen=True)
class _Lot:
    id: int
    pool: Pool
    chips: int
    qualifier: Qualifier


def _fit(part: Kind, lot: Kind) -> int | None:
    """How well a part's chips fit a programme's lot: 0 the same vendor and model; 1 the same
    vendor, with a model not given on one side; 2 a vendor not disclosed on one side. None:
    they cannot be the same chips (AMD chips are never part of an NVIDIA count)."""
    if part == lot:
        return 0
    if part[0] == lot[0] and None in (part[1], lot[1]):
        return 1
    if UNKNOWN_VENDOR in (part[0], lot[0]):
        return 2
    return None


@dataclass
class Coverage:
    """How every programme counts: what its parts count, and what each of its own lots adds."""

    parts: dict[str, Amount] = field(default_factory=dict)  # programme id -> its parts' count
    added: dict[int, Amount] = field(default_factory=dict)  # a programme's lot id -> what it adds
    # entry id -> what it counts, by pool of chips (summed when asked: few are)
    by_pool: dict[str, dict[Pool, Amount]] = field(default_factory=dict)
    programme_ids: frozenset[str] = frozenset()
    # Read from the count the tracker keeps (tracker.service.counts.counted): ``added`` and
    # ``programme_ids`` only, which is all the totals read; ``parts`` and ``by_pool`` empty.
    kept: bool = False

    @property
    def any_programme(self) -> bool:
        return bool(self.programme_ids)

    def is_programme(
        self, session: Session, entry_id: sa.ColumnElement[str] | InstrumentedAttribute[str]
    ) -> sa.ColumnElement[bool]:
        """Whether ``entry_id`` is one of the programmes counted here (:func:`among`)."""
        return among(session, entry_id, self.programme_ids)

    def adds(self, lot_id: int) -> Amount:
        """What a programme's lot adds to its parts' count."""
        return self.added.get(lot_id, Amount())

    def count_of(self, entry_id: str) -> Amount:
        """All an entry counts (a part of a programme; a programme with its parts): its
        chips still planned."""
        return total(amount for pool, amount in self.by_pool.get(entry_id, {}).items() if pool[0])


def evidence(filters: Filters) -> Filters:
    """The filters that say which announcements count as evidence: known by a day (--as-of,
    --announced-until, --announced-since), sure enough (--min-confidence). A part they
    leave out covers nothing of its programme, which then stands on its own figure.

    The other filters (place, chips, status, sponsor) only say which chips to show: a part
    they leave out still covers its programme, so that rows split by them add up."""
    return Filters(
        as_of=filters.as_of,
        min_confidence=filters.min_confidence,
        announced_since=filters.announced_since,
        announced_until=filters.announced_until,
    )


def coverage(session: Session, filters: Filters | None = None) -> Coverage:
    """Work out what each programme counts, from the lots of the announcements that the
    evidence filters of ``filters`` (see :func:`evidence`) keep.

    A part's chips cover its programme's lots that may be the same chips (:func:`_fit`),
    lot by lot (see :meth:`_Counter._uncovered` for cancelled lots). What a lot adds carries
    its qualifier (taking away a lower bound leaves an upper bound).
    """
    programme_ids: set[str] = set(session.scalars(programmes()))
    if not programme_ids:
        return Coverage()
    chosen = evidence(filters or Filters())
    parents = session.execute(sa.select(Entry.id, Entry.parent_id).where(Entry.parent_id.is_not(None)))
    children: dict[str, list[str]] = defaultdict(list)
    # Sorted as tuples: rows compare slowly (9,000 parts took 0.06 s).
    for child, parent in sorted((child, parent) for child, parent in parents):
        if parent is not None:
            children[parent].append(child)
    inactive = effective_status(chosen.as_of).in_([status.value for status in INACTIVE_STATUSES])
    conditions = chosen.lot_conditions(planned_only=False)
    # A programme's own lots, one by one: what its parts cover is worked out lot by lot.
    own = (
        sa.select(
            ChipLot.entry_id,
            ChipLot.id,
            ChipLot.vendor,
            ChipLot.model,
            ChipLot.quantity,
            ChipLot.qualifier,
            inactive,
        )
        .join(Entry, ChipLot.entry_id == Entry.id)
        .where(among(session, ChipLot.entry_id, programme_ids), *conditions)
        .order_by(ChipLot.entry_id, ChipLot.lot)
    )
    lots: dict[str, list[_Lot]] = defaultdict(list)
    qualifiers = {choice.value: choice for choice in Qualifier}
    for entry_id, lot_id, vendor, model, chips, qualifier, ended in session.connection().execute(own).all():
        lots[entry_id].append(_Lot(lot_id, (not ended, vendor, model), chips, qualifiers[qualifier]))
    result = Coverage(programme_ids=frozenset(programme_ids))
    in_full = _parts_in_full(session, programme_ids, conditions, inactive)
    _Counter(children, lots, in_full, result).count_all()
    return result


def _parts_in_full(
    session: Session,
    programme_ids: set[str],
    conditions: list[sa.ColumnElement[bool]],
    inactive: sa.ColumnElement[bool],
) -> dict[str, dict[Pool, Amount]]:
    """What each part that is no programme counts, by pool: all the chips of its lots that
    ``conditions`` keep, nothing covering them. Summed by the database: they are most of
    the lots a coverage reads."""
    per_lot = (
        sa.select(
            ChipLot.entry_id.label("entry_id"),
            inactive.label("ended"),
            ChipLot.vendor.label("vendor"),
            ChipLot.model.label("model"),
            ChipLot.quantity.label("quantity"),
            ChipLot.qualifier.label("qualifier"),
        )
        .join(Entry, ChipLot.entry_id == Entry.id)
        .where(
            # One list of ids, so that the database finds their lots by index.
            ChipLot.entry_id.in_(sa.select(Entry.id).where(Entry.parent_id.is_not(None))),
            sa.not_(among(session, Entry.id, programme_ids)),
            *conditions,
        )
        .subquery()
    )
    # Grouped outside, by plain columns (see summary.grouped_totals).
    keys = (per_lot.c.entry_id, per_lot.c.ended, per_lot.c.vendor, per_lot.c.model)
    query = sa.select(*keys, sa.func.sum(per_lot.c.quantity), qualifier_bits(per_lot.c.qualifier)).group_by(
        *keys
    )
    counted: dict[str, dict[Pool, Amount]] = defaultdict(dict)
    for entry_id, ended, vendor, model, chips, bits in session.connection().execute(query).all():
        counted[entry_id][(not ended, vendor, model)] = Amount.of_bits(int(chips), bits)
    return counted


class _Counter:
    def __init__(
        self,
        children: Mapping[str, list[str]],
        lots: Mapping[str, list[_Lot]],
        in_full: Mapping[str, dict[Pool, Amount]],
        result: Coverage,
    ):
        self.children = children
        self.lots = lots  # a programme's own lots
        self.in_full = in_full  # what a part that is no programme counts (_parts_in_full)
        self.result = result
        self.by_pool: dict[str, dict[Pool, Amount]] = {}
        self.visiting: set[str] = set()

    def count_all(self) -> None:
        for entry_id in sorted(self.result.programme_ids):
            self.count(entry_id)
        self.result.by_pool = self.by_pool

    def count(self, entry_id: str) -> dict[Pool, Amount]:
        """What an entry counts, by pool of chips: its parts', and what its own lots add."""
        if entry_id in self.by_pool:
            return self.by_pool[entry_id]
        if entry_id not in self.children and entry_id not in self.result.programme_ids:
            self.by_pool[entry_id] = self.in_full.get(entry_id, {})
            return self.by_pool[entry_id]
        self.visiting.add(entry_id)  # a cycle (refused on every write) would count nothing twice
        parts: dict[Pool, Amount] = defaultdict(Amount)
        for child in self.children.get(entry_id, ()):
            if child not in self.visiting:
                for pool, amount in self.count(child).items():
                    parts[pool] += amount
        self.visiting.discard(entry_id)
        if entry_id in self.children:
            self.result.parts[entry_id] = total(amount for pool, amount in parts.items() if pool[0])
        counted = defaultdict(Amount, parts)
        for lot, adds in self._uncovered(self.lots.get(entry_id, []), parts).items():
            self.result.added[lot.id] = adds
            counted[lot.pool] += adds
        self.by_pool[entry_id] = dict(counted)
        return self.by_pool[entry_id]

    @staticmethod
    def _uncovered(own: list[_Lot], parts: Mapping[Pool, Amount]) -> dict[_Lot, Amount]:
        """What each of a programme's lots adds beyond the parts' chips that may be its own:
        as many of its chips covered as can be (:func:`tracker.service.matching.cover`), by
        the best fitting chips.

        Planned lots are covered first, and only by planned chips: a cancelled site leaves
        its plan standing. A cancelled or decommissioned lot is covered by whatever chips are
        left, planned or not: a site still going ahead is no part of what was called off.
        """
        if not parts:  # nothing covers them: each adds all it counts
            return {lot: Amount(lot.chips, lot.qualifier) for lot in own}
        fit = {
            (pool, lot.id): rank
            for pool in parts
            for lot in own
            if (pool[0] or not lot.pool[0]) and (rank := _fit(pool[1:], lot.pool[1:])) is not None
        }
        supplies = {pool: amount.chips for pool, amount in sorted(parts.items(), key=_pool_order)}
        flows = cover(supplies, [(lot.id, lot.chips, lot.pool[0]) for lot in own], fit)
        covering: dict[int, Amount] = defaultdict(Amount)  # the chips that covered each lot
        left = {lot.id: lot.chips for lot in own}
        for (pool, lot_id), chips in flows.items():
            covering[lot_id] += Amount(chips, parts[pool].qualifier)
            left[lot_id] -= chips
        return {lot: _remainder(lot, left[lot.id], covering.get(lot.id)) for lot in own}


def _pool_order(item: tuple[Pool, Amount]) -> tuple[bool, str, str]:
    planned, vendor, model = item[0]
    return (not planned, vendor, model or "")


def _remainder(lot: _Lot, chips: int, covered: Amount | None) -> Amount:
    """What a lot adds beyond the chips that covered it, and how exactly: what is left of an
    "at least" count is at least that (at least nothing, where its parts cover it all)."""
    if covered is None:
        return Amount(chips, lot.qualifier)
    if not chips:
        return Amount(0, Qualifier.AT_LEAST if lot.qualifier is Qualifier.AT_LEAST else Qualifier.EXACT)
    return Amount(chips, lot.qualifier.minus(covered.qualifier))


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
