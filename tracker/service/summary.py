"""Planned totals: accelerators grouped by country, region, vendor and the rest, each chip
counted once (a programme adds only what its parts do not cover)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tracker.errors import InvalidValue
from tracker.model.tables import (
    ChipLot,
    ChipModel,
    ChipVendor,
    Entry,
    Operator,
    ProgrammeLotCount,
    RegionCountry,
)
from tracker.model.vocabulary import DEFAULT_SUMMARY_KEYS, SUMMARY_KEYS, H100eBasis, Qualifier
from tracker.service.capacity import Capacity, capacity_of, capacity_sums, rate_of, with_figures
from tracker.service.counts import counted
from tracker.service.filters import (
    FIRST_ONLINE_PRECISION,
    FIRST_ONLINE_START,
    Filters,
    effective_status,
    schedule,
)
from tracker.service.programmes import Amount, Coverage, qualifier_bits, regions_of

Keys = tuple[Any, ...]
# Keys for the timeline only: a lot's online period, and its entry's first announced one.
ONLINE_START, ONLINE_PRECISION = "online_start", "online_precision"
FIRST_START, FIRST_PRECISION = "first_online_start", "first_online_precision"


@dataclass(frozen=True)
class Totals:
    """One row of a summary: the values of its keys, distinct entries, chips and how
    exactly they are known (a sum with an "at least" count in it is at least that)."""

    keys: Keys
    entries: int
    chips: int
    qualifier: Qualifier = Qualifier.EXACT
    capacity: Capacity = field(default_factory=Capacity)
    bits: int = -1  # the qualifiers of every count summed (see :class:`Amount`)

    def __post_init__(self) -> None:
        if self.bits < 0:
            object.__setattr__(self, "bits", self.qualifier.bit)

    @property
    def amount(self) -> Amount:
        return Amount(self.chips, self.qualifier, self.bits)


def _joined(query: sa.Select[Any], keys: Sequence[str]) -> sa.Select[Any]:
    """The query of lots joined to entries, joined also to what ``keys`` read: an operator
    or vendor without a country (or an entry without an operator) keeps its lots, under None."""
    if "operator-country" in keys:
        query = query.outerjoin(Operator, Operator.name == Entry.operator)
    if "vendor-country" in keys:
        query = query.outerjoin(ChipVendor, ChipVendor.name == ChipLot.vendor)
    return query


def _key_column(key: str, filters: Filters) -> sa.ColumnElement[Any]:
    columns: dict[str, Any] = {
        "country": Entry.country,
        "region": RegionCountry.region_id,
        "vendor": ChipLot.vendor,
        "model": ChipLot.model,
        # The model's family in the catalogue (joined by capacity.with_figures): a name that
        # covers several models, such as Grace Blackwell, groups with them.
        "family": ChipModel.family,
        "status": effective_status(filters.as_of),
        "operator": Entry.operator,
        "scope": Entry.scope,  # not a --by key: for the sovereignty report
        "entry": Entry.id,  # not a --by key: for an entry's own figures (docs/compute.md)
        # The operator's headquarters and the chip vendor's (their nationality); the joins
        # are added by :func:`_joined`.
        "operator-country": Operator.hq_country,
        "vendor-country": ChipVendor.country,
        "sponsor": Entry.sponsor,
        "kind": Entry.kind,
        "confidence": Entry.confidence,
        # The online period that applies to a lot, its own or its entry's (for the timeline).
        ONLINE_START: sa.func.coalesce(ChipLot.online_start, Entry.online_start),
        ONLINE_PRECISION: sa.func.coalesce(ChipLot.online_precision, Entry.online_precision),
        # Whether the entry's online period is its first announced one, or moved (see
        # filters.schedule): a lot with a period of its own is its entry's, as in `tracker slips`.
        "schedule": schedule(),
        # The entry's first announced online period (for the timeline by first dates).
        FIRST_START: FIRST_ONLINE_START,
        FIRST_PRECISION: FIRST_ONLINE_PRECISION,
    }
    return columns[key]


def check_keys(keys: Sequence[str]) -> tuple[str, ...]:
    """The --by keys, checked: known and not repeated."""
    for key in keys:
        if key not in SUMMARY_KEYS:
            raise InvalidValue("by", f"unknown key {key!r}; use one of: {', '.join(SUMMARY_KEYS)}")
    if len(set(keys)) != len(keys):
        raise InvalidValue("by", f"a key is repeated in {', '.join(keys)}")
    return tuple(keys) or DEFAULT_SUMMARY_KEYS


@dataclass
class _Group:
    entries: int = 0  # distinct entries counted by the database
    programmes: set[str] = field(default_factory=set)
    amount: Amount = field(default_factory=Amount)
    capacity: Capacity = field(default_factory=Capacity)

    def totals(self, keys: Keys) -> Totals:
        entries = self.entries + len(self.programmes)
        amount = self.amount
        return Totals(keys, entries, amount.chips, amount.qualifier, self.capacity, amount.bits)


def summarise(
    session: Session,
    filters: Filters,
    keys: Sequence[str],
    *,
    with_total: bool,
    basis: H100eBasis | None = None,
) -> tuple[list[Totals], Totals | None]:
    """The rows of a summary (:func:`planned_totals`) and, ``with_total``, its total row
    (:func:`planned_total`), the programmes' count read or worked out once for both.
    ``basis``: the one basis of H100-equivalents the rows' capacity needs (None: both)."""
    cover = counted(session, filters)
    rows = grouped_totals(session, filters, check_keys(keys), cover, basis=basis)
    return rows, planned_total(session, filters, cover, basis=basis) if with_total else None


def planned_totals(
    session: Session, filters: Filters, keys: Sequence[str], cover: Coverage | None = None
) -> list[Totals]:
    """Chips and distinct entries per combination of ``keys``, most chips first, then by keys.

    Lots count when their effective status matches ``filters`` (by default: every
    status but cancelled and decommissioned). A programme counts only what its parts do
    not cover (:mod:`tracker.service.programmes`); one with a region scope has no country
    and counts under the regions its whole scope is within. Grouped by region, a country
    in two regions counts in both rows; :func:`planned_total` counts it once.
    """
    return grouped_totals(session, filters, check_keys(keys), cover or counted(session, filters))


def grouped_totals(
    session: Session,
    filters: Filters,
    keys: Sequence[str],
    cover: Coverage,
    *,
    basis: H100eBasis | None = None,
) -> list[Totals]:
    """:func:`planned_totals` by any keys of :func:`_key_column`, checked by the caller.
    ``basis``: the one basis of H100-equivalents the rows need, where the count is kept
    (the other one's sums are then left at zero); None: both."""
    if cover.kept and "region" not in keys:
        return _sorted(_kept_totals(session, filters, keys, basis))
    groups: dict[Keys, _Group] = {}
    lots = _counted_lots(
        session, filters, cover, *(_key_column(key, filters).label(key) for key in keys), keys=keys
    )
    if "region" in keys:
        lots = lots.outerjoin(RegionCountry, RegionCountry.country == Entry.country)
        if filters.regions:
            lots = lots.where(RegionCountry.region_id.in_(filters.regions))
    # Grouped outside, by plain columns: a key such as the status on a past day is an
    # expression that PostgreSQL would not match between GROUP BY and ORDER BY.
    per_lot = lots.subquery()
    key_columns = [per_lot.c[key] for key in keys]
    query = sa.select(
        *key_columns,
        sa.func.count(sa.distinct(per_lot.c.entry_id)),
        sa.func.sum(per_lot.c.quantity),
        qualifier_bits(per_lot.c.qualifier),
        *capacity_sums(per_lot),
    ).group_by(*key_columns)
    for row in session.connection().execute(query):
        values: Keys = tuple(row[: len(keys)])
        entries, chips, qualifiers, *sums = row[len(keys) :]
        amount = Amount.of_bits(int(chips), qualifiers)
        groups[values] = _Group(entries, amount=amount, capacity=capacity_of(tuple(sums)))
    found = _programme_lots(session, filters, cover, keys)
    adding = {place for place, _, amount, _ in found if amount.chips}
    for place, entry_id, amount, capacity in found:
        if place not in groups and place not in adding:
            continue  # lots their parts cover in full make no row of their own
        group = groups.setdefault(place, _Group())
        group.programmes.add(entry_id)
        group.amount += amount
        group.capacity += capacity
    return _sorted([group.totals(values) for values, group in groups.items()])


def _sorted(rows: list[Totals]) -> list[Totals]:
    """Most chips first, then by keys, values before none."""
    return sorted(rows, key=lambda row: (-row.chips, *((value is None, value or "") for value in row.keys)))


def planned_total(
    session: Session, filters: Filters, cover: Coverage | None = None, *, basis: H100eBasis | None = None
) -> Totals:
    """All chips and distinct entries matching ``filters``, each counted once (``basis``: as
    :func:`grouped_totals` has it)."""
    cover = cover or counted(session, filters)
    if cover.kept:
        return _kept_totals(session, filters, (), basis)[0]
    per_lot = _counted_lots(session, filters, cover).subquery()
    query = sa.select(
        sa.func.count(sa.distinct(per_lot.c.entry_id)),
        sa.func.coalesce(sa.func.sum(per_lot.c.quantity), 0),
        qualifier_bits(per_lot.c.qualifier),
        *capacity_sums(per_lot),
    )
    entries, chips, qualifiers, *sums = session.connection().execute(query).one()
    amount = Amount.of_bits(int(chips), qualifiers)
    group = _Group(entries, amount=amount, capacity=capacity_of(tuple(sums)))
    for _, entry_id, amount, capacity in _programme_lots(session, filters, cover, ()):
        group.programmes.add(entry_id)
        group.amount += amount
        group.capacity += capacity
    return group.totals(())


def _counted_lots(
    session: Session,
    filters: Filters,
    cover: Coverage,
    *columns: sa.ColumnElement[Any],
    keys: Sequence[str] = (),
) -> sa.Select[Any]:
    """The lots (of entries other than programmes) that ``filters`` count, one row each: the
    ``keys`` given, its chips and qualifier, its entry, and what :func:`capacity_sums` reads."""
    query = _joined(
        sa.select(
            *columns,
            ChipLot.quantity.label("quantity"),
            ChipLot.qualifier.label("qualifier"),
            Entry.id.label("entry_id"),
        )
        .select_from(ChipLot)
        .join(Entry, ChipLot.entry_id == Entry.id),
        keys,
    )
    return with_figures(query, session).where(*_plain_lots(session, filters, cover))


def _plain_lots(session: Session, filters: Filters, cover: Coverage) -> list[sa.ColumnElement[bool]]:
    """Conditions on lots joined to entries: those matching ``filters``, programmes' left out."""
    conditions = [ChipLot.entry_id == Entry.id, *filters.lot_conditions(planned_only=True)]
    if cover.any_programme:
        conditions.append(sa.not_(cover.is_programme(session, Entry.id)))
    return conditions


def _programme_lots(
    session: Session, filters: Filters, cover: Coverage, keys: Sequence[str]
) -> list[tuple[Keys, str, Amount, Capacity]]:
    """What each lot of a programme matching ``filters`` adds beyond its parts, with the
    values of ``keys`` and its figures: one row per region the programme is within, grouped
    by region. A lot's share of its programme's reported power goes with the chips it adds."""
    if not cover.any_programme:
        return []
    columns = [sa.null() if key == "region" else _key_column(key, filters) for key in keys]
    query = with_figures(
        _joined(
            sa.select(
                *columns, ChipLot.id, Entry.id, sa.func.coalesce(Entry.country, Entry.scope), ChipLot.quantity
            )
            .select_from(ChipLot)
            .join(Entry, ChipLot.entry_id == Entry.id),
            keys,
        ),
        session,
        few=True,  # a programme's lots
    ).where(cover.is_programme(session, Entry.id), *filters.lot_conditions(planned_only=True))
    within = regions_of(session) if "region" in keys else {}
    found = []
    for *values, lot_id, entry_id, place, quantity, bf16, tdp, _, reported, epoch in session.execute(query):
        amount = cover.adds(lot_id)  # may be none: a programme its parts cover is still one of the entries
        share = None if reported is None else Decimal(str(reported)) * amount.chips / quantity
        capacity = Capacity.of_lot(amount.chips, _rate(bf16), tdp, share, _rate(epoch))
        if "region" not in keys:
            found.append((tuple(values), entry_id, amount, capacity))
            continue
        regions: list[str | None] = [
            region for region in within.get(place, []) if not filters.regions or region in filters.regions
        ]
        at = keys.index("region")
        for region in regions or [None]:
            found.append(((*values[:at], region, *values[at + 1 :]), entry_id, amount, capacity))
    return found


_FLAGGED = (Qualifier.APPROX, Qualifier.AT_LEAST, Qualifier.UP_TO)  # the bits a sum may hold


def _kept_totals(
    session: Session, filters: Filters, keys: Sequence[str], basis: H100eBasis | None
) -> list[Totals]:
    """:func:`grouped_totals` read with the programmes' kept count (:func:`counts.counted
    <tracker.service.counts.counted>`), in one query: a programme's lot counts what it adds
    to its parts, any other lot all its chips.

    Each entry's lots are summed first, by the keys: the entry is then one row of each group
    it is in (its entries are counted without a DISTINCT), and its reported power is shared
    once a row rather than once a lot. A group is a row when a lot other than a programme's,
    or a programme's lot that adds chips, is in it (as :func:`grouped_totals` has it); the
    total (no keys) counts every programme, in one row. Not for the region: a programme with a
    region scope counts in each region its scope is within. ``basis``: only its rate is read
    (each rate costs a tenth of the query)."""
    added = ProgrammeLotCount
    chips = sa.func.coalesce(added.chips, ChipLot.quantity)
    per_lot = (
        _joined(
            sa.select(
                *(_key_column(key, filters).label(key) for key in keys),
                Entry.id.label("entry_id"),
                Entry.power_mw.label("power_mw"),
                chips.label("chips"),
                sa.func.coalesce(added.qualifier, ChipLot.qualifier).label("qualifier"),
                added.lot_id.is_not(None).label("programme"),
                _rate_column(H100eBasis.BF16, basis).label("bf16"),
                _rate_column(H100eBasis.EPOCH, basis).label("epoch"),
                ChipModel.tdp_w.label("tdp_w"),
            )
            .select_from(ChipLot)
            .join(Entry, ChipLot.entry_id == Entry.id)
            .outerjoin(
                ChipModel, sa.and_(ChipModel.vendor == ChipLot.vendor, ChipModel.name == ChipLot.model)
            )
            .outerjoin(added, added.lot_id == ChipLot.id),
            keys,
        )
        .where(*filters.lot_conditions(planned_only=True))
        .subquery("per_lot")
    )
    lot = per_lot.c
    flags = [sa.func.max(sa.case((lot.qualifier == choice.value, 1), else_=0)) for choice in _FLAGGED]
    # What an entry's power is shared among: all its lots' chips, whatever their status.
    all_lots = aliased(ChipLot)
    entry_chips = (
        sa.select(sa.func.sum(all_lots.quantity)).where(all_lots.entry_id == lot.entry_id).scalar_subquery()
    )
    power = sa.func.max(lot.power_mw)
    unreported = power.is_(None)
    summed = sa.func.sum(lot.chips)
    per_entry = (
        sa.select(
            *(lot[key] for key in keys),
            summed.label("chips"),
            *(flag.label(f"flag{index}") for index, flag in enumerate(flags)),
            sa.func.max(sa.case((sa.or_(~lot.programme, lot.chips > 0), 1), else_=0)).label("makes_row"),
            sa.func.sum(lot.chips * lot.bf16).label("bf16"),
            sa.func.sum(sa.case((lot.bf16.is_not(None), lot.chips), else_=0)).label("bf16_chips"),
            # As a float: SQLite would otherwise round each share to power_mw's 3 decimals.
            sa.case((unreported, None), else_=sa.type_coerce(power, sa.Float) * summed / entry_chips).label(
                "reported"
            ),
            sa.case((unreported, 0), else_=summed).label("reported_chips"),
            sa.case((unreported, sa.func.sum(lot.chips * lot.tdp_w)), else_=None).label("tdp"),
            sa.case(
                (unreported, sa.func.sum(sa.case((lot.tdp_w.is_not(None), lot.chips), else_=0))), else_=0
            ).label("tdp_chips"),
            sa.func.sum(lot.chips * lot.epoch).label("epoch"),
            sa.func.sum(sa.case((lot.epoch.is_not(None), lot.chips), else_=0)).label("epoch_chips"),
        )
        .group_by(lot.entry_id, *(lot[key] for key in keys))
        .subquery("per_entry")
    )
    entry = per_entry.c
    query = sa.select(
        *(entry[key] for key in keys),
        sa.func.count(),
        sa.func.sum(entry.chips),
        *(sa.func.max(entry[f"flag{index}"]) for index in range(len(_FLAGGED))),
        *(
            sa.func.sum(entry[name])
            for name in ("bf16", "bf16_chips", "reported", "reported_chips", "tdp", "tdp_chips", "epoch")
        ),
        sa.func.sum(entry.epoch_chips),
    )
    if keys:
        query = query.group_by(*(entry[key] for key in keys)).having(sa.func.max(entry.makes_row) == 1)
    found = []
    for row in session.connection().execute(query):
        values: Keys = tuple(row[: len(keys)])
        entries, chips_, *rest = row[len(keys) :]
        bits = sum(choice.bit for choice, flag in zip(_FLAGGED, rest[:3], strict=True) if flag)
        amount = Amount.of_bits(int(chips_ or 0), bits)
        found.append(_Group(entries, amount=amount, capacity=capacity_of(tuple(rest[3:]))).totals(values))
    return found


def _rate_column(rate: H100eBasis, basis: H100eBasis | None) -> sa.ColumnElement[Any]:
    """A model's rate on ``rate``'s basis where ``basis`` (None: both) reads it; else none."""
    if basis in (None, rate):
        return rate_of(rate)
    return sa.cast(sa.null(), ChipModel.bf16_tflops.type)


def _rate(value: object) -> Decimal | None:
    """A rate read from the database as a Decimal (SQLite may give a float)."""
    return None if value is None else Decimal(str(value))
