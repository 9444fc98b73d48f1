"""Sovereignty: whose the chips of each host country are, by the nationality of their
operator (its headquarters) and of their vendor (the chip designer's), counted as the
summary counts them (every chip once, a programme adding only what its parts do not cover).

For each host country, and each of the two nationalities, every chip falls in exactly one
group: ``home`` (headquartered in the host country), ``bloc`` (in the bloc, a region given
with ``--bloc`` or ``--region``, but not the host country), ``foreign`` (elsewhere) or
``unknown`` (an operator without a known headquarters, an entry without an operator, a
vendor not disclosed). A programme with a region scope is the ``(multi-country)`` row; for
it, ``home`` is any country of its scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.tables import RegionCountry
from tracker.service.counts import counted
from tracker.service.filters import Filters
from tracker.service.programmes import Amount
from tracker.service.summary import grouped_totals
from tracker.service.tables import Count, PeopleView, Share, Table

GROUPS = ("home", "bloc", "foreign", "unknown")
COLUMNS = (
    "country", "chips",
    *(f"operator_{group}" for group in GROUPS),
    *(f"vendor_{group}" for group in GROUPS),
)  # fmt: skip
MULTI_COUNTRY = "(multi-country)"


@dataclass
class _Row:
    amount: Amount = field(default_factory=Amount)
    operator: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    vendor: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))

    def add(self, chips: Amount, operator_group: str, vendor_group: str) -> None:
        self.amount += chips
        self.operator[operator_group] += chips.chips
        self.vendor[vendor_group] += chips.chips

    def values(self) -> tuple[int, ...]:
        return (
            self.amount.chips,
            *(self.operator[group] for group in GROUPS),
            *(self.vendor[group] for group in GROUPS),
        )


def _group(nationality: str | None, home: frozenset[str], bloc: frozenset[str]) -> str:
    if nationality is None:
        return "unknown"
    if nationality in home:
        return "home"
    return "bloc" if nationality in bloc else "foreign"


def bloc_countries(session: Session, regions: Sequence[str]) -> frozenset[str]:
    """The countries of the regions (ids, checked) that make the bloc."""
    if not regions:
        return frozenset()
    query = sa.select(RegionCountry.country).where(RegionCountry.region_id.in_(regions))
    return frozenset(session.scalars(query))


def sovereignty_table(session: Session, filters: Filters, bloc: Sequence[str] = ()) -> Table:
    """One row per host country (a programme with a region scope: ``(multi-country)``), most
    chips first: its chips, then by operator and by vendor nationality (see the module).
    ``bloc``: the region ids of the bloc, else those of ``filters``, else none."""
    regions = tuple(bloc) or filters.regions
    in_bloc = bloc_countries(session, regions)
    keys = ("country", "scope", "operator-country", "vendor-country")
    scopes: dict[str, frozenset[str]] = {}
    rows: dict[str, _Row] = {}
    for totals in grouped_totals(session, filters, keys, counted(session, filters)):
        country, scope, operator_country, vendor_country = totals.keys
        if country is not None:
            host, home = country, frozenset({country})
        else:
            host = MULTI_COUNTRY
            if scope not in scopes:
                scopes[scope] = bloc_countries(session, [scope]) if scope else frozenset()
            home = scopes[scope]
        row = rows.setdefault(host, _Row())
        row.add(totals.amount, _group(operator_country, home, in_bloc), _group(vendor_country, home, in_bloc))
    ordered = sorted(
        rows.items(), key=lambda item: (-item[1].amount.chips, item[0] == MULTI_COUNTRY, item[0])
    )
    total = _Row()
    for _, row in ordered:
        total.amount += row.amount
        for group in GROUPS:
            total.operator[group] += row.operator[group]
            total.vendor[group] += row.vendor[group]
    columns = (*COLUMNS, "qualifier")
    values = [(host, *row.values(), row.amount.qualifier.value) for host, row in ordered]
    total_values = ("Total", *total.values(), total.amount.qualifier.value)

    def people(host: str, row: _Row) -> tuple[object, ...]:
        chips = row.amount.chips
        return (
            host,
            Count(chips, row.amount.qualifier.value),
            *(Share(count, chips) for count in row.values()[1:]),
        )

    view = PeopleView(
        COLUMNS, [people(host, row) for host, row in ordered], people("Total", total) if ordered else None
    )
    basis = (
        f"bloc: {', '.join(regions)} ({len(in_bloc)} countries)"
        if regions
        else "no bloc given (--bloc or --region): the bloc columns are 0"
    )
    notes = (
        f"Chips by host country, and by the headquarters of their operator and of their vendor: "
        f"home (the host country), bloc, foreign, unknown; {basis}.",
    )
    return Table(columns, values, total_values if ordered else None, notes if ordered else (), view)
