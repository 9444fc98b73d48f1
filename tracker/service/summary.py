"""Planned totals: accelerators grouped by country, region, vendor and the rest."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import InvalidValue
from tracker.model.tables import ChipLot, Entry, RegionCountry
from tracker.model.vocabulary import DEFAULT_SUMMARY_KEYS, SUMMARY_KEYS
from tracker.service.database import bytewise
from tracker.service.filters import Filters, effective_status


@dataclass(frozen=True)
class Totals:
    """One row of a summary: the values of its keys, distinct entries and chips."""

    keys: tuple[str | None, ...]
    entries: int
    chips: int


def _key_column(key: str, filters: Filters) -> sa.ColumnElement[Any]:
    columns: dict[str, Any] = {
        "country": Entry.country,
        "region": RegionCountry.region_id,
        "vendor": ChipLot.vendor,
        "model": ChipLot.model,
        "status": effective_status(filters.as_of),
        "operator": Entry.operator,
        "sponsor": Entry.sponsor,
        "kind": Entry.kind,
        "confidence": Entry.confidence,
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


def planned_totals(session: Session, filters: Filters, keys: Sequence[str]) -> Iterator[Totals]:
    """Chips and distinct entries per combination of ``keys``, most chips first.

    Lots count when their effective status matches ``filters`` (by default: every
    status but cancelled and decommissioned). Grouped by region, a country in two
    regions counts in both rows; :func:`planned_total` counts it once.
    """
    keys = check_keys(keys)
    lots = (
        sa.select(
            *(_key_column(key, filters).label(key) for key in keys),
            ChipLot.quantity.label("quantity"),
            Entry.id.label("entry_id"),
        )
        .select_from(ChipLot)
        .join(Entry, ChipLot.entry_id == Entry.id)
        .where(*filters.lot_conditions(planned_only=True))
    )
    if "region" in keys:
        lots = lots.outerjoin(RegionCountry, RegionCountry.country == Entry.country)
        if filters.regions:
            lots = lots.where(RegionCountry.region_id.in_(filters.regions))
    # Grouped outside, by plain columns: a key such as the status on a past day is an
    # expression that PostgreSQL would not match between GROUP BY and ORDER BY.
    per_lot = lots.subquery()
    key_columns = [per_lot.c[key] for key in keys]
    chips = sa.func.sum(per_lot.c.quantity)
    query = (
        sa.select(*key_columns, sa.func.count(sa.distinct(per_lot.c.entry_id)), chips)
        .group_by(*key_columns)
        .order_by(chips.desc(), *(bytewise(session, column).asc().nulls_last() for column in key_columns))
    )
    for row in session.execute(query):
        yield Totals(keys=tuple(row[: len(keys)]), entries=row[-2], chips=int(row[-1]))


def planned_total(session: Session, filters: Filters) -> Totals:
    """All chips and distinct entries matching ``filters``, each counted once."""
    query = (
        sa.select(sa.func.count(sa.distinct(Entry.id)), sa.func.coalesce(sa.func.sum(ChipLot.quantity), 0))
        .select_from(ChipLot)
        .join(Entry, ChipLot.entry_id == Entry.id)
        .where(*filters.lot_conditions(planned_only=True))
    )
    entries, chips = session.execute(query).one()
    return Totals(keys=(), entries=entries, chips=int(chips))
