"""Slippage: entries whose online period moved later than first announced, or whose period
has ended without them being operational, by how long, with the source of each date.

An entry's first announced online period is kept when ``tracker update`` or an import moves
its online period (:func:`~tracker.model.fields.with_first_online`). A period is a promise to
be online by its end, so a move is measured between the two periods' last days: from
2025-Q4 to 2026-H1 is 181 days; from 2025 to 2025-Q4 (told more precisely) is none.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.periods import Period, parse_period
from tracker.model.tables import ChipLot, Entry, EntryChange, EntrySource, Source
from tracker.model.vocabulary import INACTIVE_STATUSES, Status
from tracker.service.bulk import chunks
from tracker.service.database import bytewise
from tracker.service.filters import FIRST_ONLINE_PRECISION, FIRST_ONLINE_START, Filters
from tracker.service.tables import Count, PeopleView, Table

# Statuses in which a period that has ended is not a delay: it came online, or never will.
_NOT_LATE = {Status.OPERATIONAL.value, *(status.value for status in INACTIVE_STATUSES)}
UNSOURCED = "(unsourced)"


@dataclass(frozen=True)
class Slip:
    """An entry that is late: its online period moved later (``moved_days``, between the two
    periods' last days), or ended before ``today`` with the entry not operational
    (``overdue_days``, since that last day; for an entry whose date was withdrawn, ``online``
    None, since its first period's last day); and where each date comes from."""

    entry_id: str
    name: str
    country: str | None
    status: str
    chips: int
    first_online: Period
    online: Period | None
    moved_days: int | None
    overdue_days: int | None
    first_source: str | None = None
    online_source: str | None = None


def slips(session: Session, filters: Filters, today: dt.date | None = None) -> list[Slip]:
    """Entries matching ``filters`` that are late (see :class:`Slip`), the latest first."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    inactive = [status.value for status in INACTIVE_STATUSES]
    chips = (
        sa.select(ChipLot.entry_id, sa.func.sum(ChipLot.quantity).label("chips"))
        .where(ChipLot.status.is_(None) | ChipLot.status.not_in(inactive))
        .group_by(ChipLot.entry_id)
        .subquery()
    )
    periods = (FIRST_ONLINE_START, FIRST_ONLINE_PRECISION, Entry.online_start, Entry.online_precision)
    query = (
        sa.select(Entry.id, Entry.name, Entry.country, Entry.status, chips.c.chips, *periods)
        .outerjoin(chips, chips.c.entry_id == Entry.id)
        .where(FIRST_ONLINE_START.is_not(None), *filters.entry_conditions())
        .order_by(bytewise(session, Entry.id))
    )
    late: list[Slip] = []
    for entry_id, name, country, status, count, *parts in session.execute(query):
        first = Period(parts[0], parts[1])
        online = Period(parts[2], parts[3]) if parts[2] is not None else None
        due = (online or first).end  # a date withdrawn: the first was not kept
        moved = (online.end - first.end).days if online is not None else 0
        overdue = (today - due).days if status not in _NOT_LATE else 0
        if moved > 0 or overdue > 0:
            late.append(
                Slip(
                    entry_id,
                    name,
                    country,
                    status,
                    int(count or 0),
                    first,
                    online,
                    moved_days=moved if moved > 0 else None,
                    overdue_days=overdue if overdue > 0 else None,
                )
            )
    return sorted(_with_sources(session, late), key=_latest_first)


def _latest_first(slip: Slip) -> tuple[int, str]:
    return (-max(slip.moved_days or 0, slip.overdue_days or 0), slip.entry_id)


def _with_sources(session: Session, late: list[Slip]) -> list[Slip]:
    """Each slip with the source of its first date (the edit that gave it, or else the
    earliest recorded of the entry's sources) and of its current one (the edit that moved it there;
    unmoved, the same as the first)."""
    ids = [slip.entry_id for slip in late]
    if not ids:
        return []
    edits: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
    earliest: dict[str, str] = {}
    for chunk in chunks(ids):
        query = (
            sa.select(EntryChange.entry_id, EntryChange.new_value, Source.reference)
            .outerjoin(Source, Source.id == EntryChange.source_id)
            .where(EntryChange.entry_id.in_(chunk), EntryChange.field.in_(["online", "first_online"]))
            .order_by(EntryChange.changed_at, EntryChange.id)
        )
        for entry_id, new, reference in session.execute(query):
            edits[entry_id].append((new, reference))
        first_link = (
            sa.select(EntrySource.entry_id, sa.func.min(EntrySource.source_id).label("source_id"))
            .where(EntrySource.entry_id.in_(chunk))
            .group_by(EntrySource.entry_id)
            .subquery()
        )
        linked = sa.select(first_link.c.entry_id, Source.reference).join(
            Source, Source.id == first_link.c.source_id
        )
        earliest.update({entry_id: reference for entry_id, reference in session.execute(linked)})
    sourced = []
    for slip in late:
        recorded_with = earliest.get(slip.entry_id)
        given = edits[slip.entry_id]
        first = next((reference for new, reference in given if new == str(slip.first_online)), recorded_with)
        now = None if slip.online is None else str(slip.online)
        moved = [reference for new, reference in given if new == now]
        current = moved[-1] if moved and slip.online != slip.first_online else first
        sourced.append(replace(slip, first_source=first, online_source=current))
    return sourced


def settle_first_online(session: Session) -> int:
    """Give entries with an online period but no first announced one (restored from a dump
    made before the tracker kept it) their first: the first period their history of edits
    records (the one the first edit of their online period replaced, or else the first it
    gave), or else their online period. Returns how many it gave one."""
    unsettled = list(
        session.scalars(
            sa.select(Entry.id).where(FIRST_ONLINE_START.is_(None), Entry.online_start.is_not(None))
        )
    )
    firsts: dict[str, Period] = {}
    for chunk in chunks(unsettled):
        edits = (
            sa.select(EntryChange.entry_id, EntryChange.old_value, EntryChange.new_value)
            .where(EntryChange.entry_id.in_(chunk), EntryChange.field == "online")
            .order_by(EntryChange.changed_at, EntryChange.id)
        )
        for entry_id, old, new in session.execute(edits):
            # The first period recorded: the one the first edit replaced, or else the first given.
            if entry_id not in firsts and (text := old or new):
                firsts[entry_id] = parse_period(text, "first_online")
    for entry_id, first in firsts.items():
        session.execute(
            sa.update(Entry)
            .where(Entry.id == entry_id)
            .values({FIRST_ONLINE_START: first.start, FIRST_ONLINE_PRECISION: first.precision.value})
        )
    session.execute(
        sa.update(Entry)
        .where(FIRST_ONLINE_START.is_(None), Entry.online_start.is_not(None))
        .values({FIRST_ONLINE_START: Entry.online_start, FIRST_ONLINE_PRECISION: Entry.online_precision})
    )
    return len(unsettled)


def slips_table(session: Session, filters: Filters, today: dt.date | None = None) -> Table:
    """The entries that are late (:func:`slips`), as a report."""
    columns = (
        "entry", "name", "country", "status", "chips", "first_online", "online", "moved_days",
        "overdue_days", "first_source", "online_source",
    )  # fmt: skip
    values = [
        (
            slip.entry_id,
            slip.name,
            slip.country,
            slip.status,
            slip.chips,
            slip.first_online,
            slip.online,
            slip.moved_days,
            slip.overdue_days,
            slip.first_source,
            slip.online_source,
        )
        for slip in slips(session, filters, today)
    ]
    shown = [
        (*row[:4], Count(row[4], "exact"), *row[5:9], *(source or UNSOURCED for source in row[9:]))
        for row in values
    ]
    notes = (
        "moved_days: from the last day of the first announced online period to the last day of "
        "the current one; overdue_days: since the last day of the current one, not operational.",
    )
    return Table(columns, values, notes=notes, people=PeopleView(columns, shown, blank=""))
