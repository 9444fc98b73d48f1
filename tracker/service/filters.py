"""The filters shared by every read command: list, summary and export."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tracker.errors import InvalidValue
from tracker.model.countries import parse_country
from tracker.model.fields import FIELDS
from tracker.model.periods import parse_day, past_day
from tracker.model.tables import ChipLot, Entry, EntrySource, Operator, RegionCountry, StatusEvent
from tracker.model.vocabulary import INACTIVE_STATUSES, Confidence, Sponsor, Status, at_least, parse_choice
from tracker.service.catalogue import load_catalogue


@dataclass(frozen=True)
class Filters:
    """Checked filter values; an empty tuple means "any"."""

    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()
    models: tuple[tuple[str, str], ...] = ()
    statuses: tuple[Status, ...] = ()
    sponsors: tuple[Sponsor, ...] = ()
    operators: tuple[str, ...] = ()  # operators' own names
    operator_countries: tuple[str, ...] = ()  # of their headquarters
    announced_since: dt.date | None = None
    announced_until: dt.date | None = None
    changed_since: dt.date | None = None  # entries created or updated on or after this day (UTC)
    min_confidence: Confidence | None = None  # entries of unknown confidence then do not match
    unsourced: bool = False  # only entries without any source
    as_of: dt.date | None = None  # the pipeline as it stood that day: known by then, status then

    def entry_conditions(self) -> list[sa.ColumnElement[bool]]:
        """Conditions on entries: an entry matches when one of its lots matches the chip and
        status filters; an entry without lots matches a status filter by its own status."""
        conditions = self._place_conditions()
        lot_conditions = self._chip_conditions()
        if self.statuses:
            lot_conditions.append(effective_status(self.as_of).in_(self._status_values()))
        if not lot_conditions:
            return conditions
        has_matching_lot: sa.ColumnElement[bool] = sa.exists().where(
            ChipLot.entry_id == Entry.id, *lot_conditions
        )
        if self.statuses and not self._chip_conditions():
            has_no_lot = ~sa.exists().where(ChipLot.entry_id == Entry.id)
            has_matching_lot = has_matching_lot | (has_no_lot & Entry.status.in_(self._status_values()))
        conditions.append(has_matching_lot)
        return conditions

    def _status_values(self) -> list[str]:
        return [status.value for status in self.statuses]

    def lot_conditions(self, *, planned_only: bool) -> list[sa.ColumnElement[bool]]:
        """Conditions on chip lots joined to their entries.

        With ``planned_only`` and no status filter, cancelled and decommissioned lots
        are left out: that is the planned total.
        """
        conditions = self._place_conditions() + self._chip_conditions()
        if self.statuses:
            conditions.append(effective_status(self.as_of).in_(self._status_values()))
        elif planned_only:
            conditions.append(
                effective_status(self.as_of).not_in([status.value for status in INACTIVE_STATUSES])
            )
        return conditions

    def _place_conditions(self) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.countries:
            conditions.append(Entry.country.in_(self.countries))
        if self.regions:
            members = sa.select(RegionCountry.country).where(RegionCountry.region_id.in_(self.regions))
            # A programme's scope counts when every one of its countries is in the regions.
            scope_country = aliased(RegionCountry)
            outside = sa.exists().where(
                scope_country.region_id == Entry.scope, scope_country.country.not_in(members)
            )
            conditions.append(sa.or_(Entry.country.in_(members), Entry.scope.is_not(None) & ~outside))
        if self.sponsors:
            conditions.append(Entry.sponsor.in_([sponsor.value for sponsor in self.sponsors]))
        if self.operators:
            conditions.append(Entry.operator.in_(self.operators))
        if self.operator_countries:
            headquartered = sa.select(Operator.name).where(Operator.hq_country.in_(self.operator_countries))
            conditions.append(Entry.operator.in_(headquartered))
        if self.announced_since:
            conditions.append(Entry.announced_on >= self.announced_since)
        if self.announced_until:
            conditions.append(Entry.announced_on <= self.announced_until)
        if self.as_of:
            # Known by then: announced by then; without an announced day, online or recorded by then.
            next_day = dt.datetime.combine(
                self.as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc
            )
            undated_known = sa.or_(Entry.online_start <= self.as_of, Entry.created_at < next_day)
            conditions.append(
                sa.or_(Entry.announced_on <= self.as_of, sa.and_(Entry.announced_on.is_(None), undated_known))
            )
        if self.unsourced:
            conditions.append(~sa.exists().where(EntrySource.entry_id == Entry.id))
        if self.min_confidence:
            conditions.append(
                Entry.confidence.in_([choice.value for choice in at_least(self.min_confidence)])
            )
        if self.changed_since:
            start = dt.datetime.combine(self.changed_since, dt.time(), tzinfo=dt.timezone.utc)
            conditions.append(Entry.updated_at >= start)
        return conditions

    def _chip_conditions(self) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.vendors:
            conditions.append(ChipLot.vendor.in_(self.vendors))
        if self.models:
            conditions.append(
                sa.or_(*(sa.and_(ChipLot.vendor == v, ChipLot.model == m) for v, m in self.models))
            )
        return conditions


# The columns of an entry's first announced online period (a field of the registry's, kept
# when its online period moves: tracker.model.fields.with_first_online).
FIRST_ONLINE_START, FIRST_ONLINE_PRECISION = (
    Entry.__table__.c[column] for column in FIELDS["first_online"].table_columns
)

# Statuses an entry or a lot cannot have had before its online period begins.
_ONLINE_STATUSES = (Status.OPERATIONAL.value, Status.DECOMMISSIONED.value)


def effective_status(as_of: dt.date | None = None) -> sa.ColumnElement[str]:
    """A lot's status: its own where it has one, otherwise its entry's (on the day ``as_of``);
    on a day before its online period (its own, or its entry's) begins, never operational or
    decommissioned (see :func:`_not_before_online`)."""
    status = sa.func.coalesce(ChipLot.status, entry_status(as_of, capped=False))
    return _not_before_online(status, sa.func.coalesce(ChipLot.online_start, Entry.online_start), as_of)


def entry_status(as_of: dt.date | None = None, *, capped: bool = True) -> sa.ColumnElement[str]:
    """An entry's status now, or in force on the day ``as_of``: that of its latest change on
    or before the day; before its first change, the status it had before that one; and,
    ``capped``, never operational or decommissioned before its online period begins."""
    if as_of is None:
        return cast(sa.ColumnElement[str], Entry.status)
    latest = (
        sa.select(StatusEvent.to_status)
        .where(StatusEvent.entry_id == Entry.id, StatusEvent.effective_on <= as_of)
        .order_by(StatusEvent.effective_on.desc(), StatusEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    first = (
        sa.select(StatusEvent.from_status)
        .where(StatusEvent.entry_id == Entry.id)
        .order_by(StatusEvent.effective_on, StatusEvent.id)
        .limit(1)
        .scalar_subquery()
    )
    status = sa.func.coalesce(latest, first, Entry.status)
    return (
        _not_before_online(status, cast(sa.ColumnElement[dt.date | None], Entry.online_start), as_of)
        if capped
        else status
    )


def _not_before_online(
    status: sa.ColumnElement[str], online_start: sa.ColumnElement[dt.date | None], as_of: dt.date | None
) -> sa.ColumnElement[str]:
    """``status`` on the day ``as_of``, except that nothing is operational or decommissioned on
    a day before its online period begins: it was then under construction, whatever its status
    now or a status recorded for an earlier day says. A period that holds the day (2025 for
    2025-06-01) has begun."""
    if as_of is None:
        return status
    too_early = sa.and_(online_start > as_of, status.in_(_ONLINE_STATUSES))
    return sa.case((too_early, Status.UNDER_CONSTRUCTION.value), else_=status)


def resolve_filters(
    session: Session,
    *,
    regions: Iterable[str] = (),
    countries: Iterable[str] = (),
    vendors: Iterable[str] = (),
    models: Iterable[str] = (),
    statuses: Iterable[str] = (),
    sponsors: Iterable[str] = (),
    operators: Iterable[str] = (),
    operator_countries: Iterable[str] = (),
    announced_since: str | None = None,
    announced_until: str | None = None,
    changed_since: str | None = None,
    min_confidence: str | None = None,
    unsourced: bool = False,
    as_of: str | None = None,
) -> Filters:
    """Check filter values as a user typed them and return them in stored form."""
    # Read only when a filter names a region, vendor or model.
    catalogue = functools.cache(functools.partial(load_catalogue, session))
    vendor_names = tuple(catalogue().vendor(vendor) for vendor in vendors)
    since = parse_day(announced_since, "announced_since") if announced_since is not None else None
    until = parse_day(announced_until, "announced_until") if announced_until is not None else None
    if since and until and since > until:
        raise InvalidValue("announced_until", f"{until} is before {since}, the first day given")
    return Filters(
        regions=tuple(catalogue().region(region) for region in regions),
        countries=tuple(parse_country(country) for country in countries),
        vendors=vendor_names,
        models=tuple(pair for model in models for pair in catalogue().models_named(model, vendor_names)),
        statuses=tuple(parse_choice(Status, status, "status") for status in statuses),
        sponsors=tuple(parse_choice(Sponsor, sponsor, "sponsor") for sponsor in sponsors),
        operators=_operators(session, operators),
        operator_countries=tuple(
            parse_country(country, "operator_country") for country in operator_countries
        ),
        announced_since=since,
        announced_until=until,
        changed_since=parse_day(changed_since, "changed_since") if changed_since is not None else None,
        unsourced=unsourced,
        as_of=past_day(as_of, "as_of") if as_of is not None else None,
        min_confidence=(
            parse_choice(Confidence, min_confidence, "min_confidence", "confidence")
            if min_confidence is not None
            else None
        ),
    )


def _operators(session: Session, names: Iterable[str]) -> tuple[str, ...]:
    """The operators named, by name or alias (read only when some are given)."""
    wanted = list(names)
    if not wanted:
        return ()
    from tracker.service.operators import load_operators

    operators = load_operators(session)
    return tuple(dict.fromkeys(operators.named(name) for name in wanted))


def resolve_region(session: Session, text: str, field_name: str = "region") -> str:
    """The id of a known region, given in any case."""
    return load_catalogue(session).region(text, field_name)


def schedule() -> sa.ColumnElement[str]:
    """Whether an entry's online period ends later than its first announced one (``moved
    later``), ends before that one began (``moved earlier``), or neither (``as announced``:
    the same period, or one told more precisely within it, 2026 then 2026-Q1); ``undated``
    without one."""
    online_start = cast(sa.ColumnElement[dt.date], Entry.online_start)
    current_end = _day_key(online_start, cast(sa.ColumnElement[str], Entry.online_precision), last=True)
    return sa.case(
        (online_start.is_(None), "undated"),
        (FIRST_ONLINE_START.is_(None), "as announced"),
        (current_end > _day_key(FIRST_ONLINE_START, FIRST_ONLINE_PRECISION, last=True), "moved later"),
        (current_end < _day_key(FIRST_ONLINE_START, FIRST_ONLINE_PRECISION, last=False), "moved earlier"),
        else_="as announced",
    )


def _day_key(
    start: sa.ColumnElement[dt.date], precision: sa.ColumnElement[str], *, last: bool
) -> sa.ColumnElement[int]:
    """A number that orders periods by their first or ``last`` day: the month that day is in
    (counted from year 0) x 100, plus the day for a period of a day, else 1 for the first day
    and 99 for the last (a longer period starts on its month's first day and ends on a
    month's last day)."""
    months_more = sa.case(
        (precision == "quarter", 2), (precision == "half", 5), (precision == "year", 11), else_=0
    )
    month = sa.extract("year", start) * 12 + sa.extract("month", start) - 1 + (months_more if last else 0)
    day = sa.case((precision == "day", sa.extract("day", start)), else_=99 if last else 1)
    return month * 100 + day
