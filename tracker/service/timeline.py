"""The build-out over time: accelerators coming online per quarter or year, counted as the
summary counts them (every chip once), so that the periods add up to its total.

A lot comes online in its own period, or its entry's. A period as precise as the bucket
or more (a month, by quarter) falls in its bucket; a coarser one keeps its own row (a lot
due "2026" is not spread over 2026's quarters: nobody said when in 2026). Lots without a
period are one ``undated`` row, last.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tracker.errors import InvalidValue
from tracker.model.periods import Period, Precision
from tracker.service.capacity import Capacity
from tracker.service.counts import counted
from tracker.service.filters import Filters
from tracker.service.programmes import Amount, Coverage
from tracker.service.summary import (
    FIRST_PRECISION,
    FIRST_START,
    ONLINE_PRECISION,
    ONLINE_START,
    Totals,
    grouped_totals,
    planned_total,
)

UNDATED = "undated"
_FINENESS = [Precision.DAY, Precision.MONTH, Precision.QUARTER, Precision.HALF, Precision.YEAR]


class Bucket(str, enum.Enum):
    """The periods a timeline counts by."""

    QUARTER = "quarter"
    YEAR = "year"

    def __str__(self) -> str:
        return self.value


@dataclass
class TimelineRow:
    """Chips coming online in one period: a bucket, a coarser period of its own, or none
    (undated). ``entries`` counts distinct entries (an entry's lots share its period)."""

    period: Period | None
    coarse: bool = False  # a period coarser than the timeline's buckets
    entries: int = 0
    amount: Amount = field(default_factory=Amount)
    capacity: Capacity = field(default_factory=Capacity)
    parts: dict[str | None, Amount] = field(default_factory=dict)  # by the stack key, if asked
    # By the stack key too, if asked: the period's rows of each of its values, with figures.
    split: dict[object, TimelineRow] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return UNDATED if self.period is None else str(self.period)

    def totals(self) -> Totals:
        amount = self.amount
        return Totals((self.label,), self.entries, amount.chips, amount.qualifier, self.capacity, amount.bits)


# What a timeline's rows may be split by, beside the period (`tracker timeline --by family`).
TIMELINE_SPLITS = ("family",)


def timeline_keys(keys: Sequence[str]) -> tuple[str, str | None]:
    """A timeline's --by values read: the bucket (quarter by default) and the key each period's
    rows are split by, if one is given; ``quarter``, ``year`` and ``family`` in any order."""
    buckets = [key.lower() for key in keys if key.lower() not in TIMELINE_SPLITS]
    splits = [key.lower() for key in keys if key.lower() in TIMELINE_SPLITS]
    accepted = ", ".join([*(bucket.value for bucket in Bucket), *TIMELINE_SPLITS])
    if len(buckets) > 1 or len(splits) > 1:
        raise InvalidValue(
            "by", f"give one period and at most one key: {', '.join(keys)}; accepted: {accepted}"
        )
    return (buckets[0] if buckets else Bucket.QUARTER.value), (splits[0] if splits else None)


def bucket_of(period: Period, bucket: Bucket) -> tuple[Period, bool]:
    """The bucket a period falls in, or the period itself when it is coarser than a bucket
    (then True: a row of its own)."""
    size = Precision.QUARTER if bucket is Bucket.QUARTER else Precision.YEAR
    if _FINENESS.index(period.precision) > _FINENESS.index(size):
        return period, True
    start = period.start
    if size is Precision.QUARTER:
        return Period(dt.date(start.year, (start.month - 1) // 3 * 3 + 1, 1), size), False
    return Period(dt.date(start.year, 1, 1), size), False


def _order(row: TimelineRow) -> tuple[int, dt.date, int]:
    """Periods in the order they end, a coarse one after the buckets it spans; undated last."""
    if row.period is None:
        return (1, dt.date.max, 0)
    return (0, row.period.end, _FINENESS.index(row.period.precision))


def timeline(
    session: Session,
    filters: Filters,
    bucket: Bucket,
    stack: str | None = None,
    *,
    first: bool = False,
    cover: Coverage | None = None,
) -> tuple[list[TimelineRow], Totals]:
    """Chips and their figures coming online per period, in time order, undated last, and
    their total (the summary's: its entries are distinct, and a programme its parts cover in
    full, which has no row of its own, is one of them); with ``stack`` (a summary key such as
    vendor), each row's chips by its values too. ``first``: by the period first announced
    for each entry (a lot with a period of its own counts in its entry's first one).
    ``cover``: the programmes' coverage, where the caller has worked it out already."""
    cover = counted(session, filters) if cover is None else cover
    rows: dict[Period | None, TimelineRow] = {}
    periods = (FIRST_START, FIRST_PRECISION) if first else (ONLINE_START, ONLINE_PRECISION)
    for group in grouped_totals(session, filters, periods, cover):
        period, coarse = _period(group.keys, bucket)
        row = rows.setdefault(period, TimelineRow(period, coarse))
        row.entries += group.entries
        row.amount += group.amount
        row.capacity += group.capacity
    if stack is not None:
        for group in grouped_totals(session, filters, (*periods, stack), cover):
            period, coarse = _period(group.keys, bucket)
            value = group.keys[2]
            parts = rows[period].parts
            parts[value] = parts.get(value, Amount()) + group.amount
            part = rows[period].split.setdefault(value, TimelineRow(period, coarse))
            part.entries += group.entries
            part.amount += group.amount
            part.capacity += group.capacity
    return sorted(rows.values(), key=_order), planned_total(session, filters, cover)


def _period(keys: tuple[object, ...], bucket: Bucket) -> tuple[Period | None, bool]:
    """The row a group of lots online in one period goes in (see :func:`bucket_of`)."""
    start, precision = keys[0], keys[1]
    if not isinstance(start, dt.date) or precision is None:
        return None, False
    return bucket_of(Period(start, Precision(str(precision))), bucket)


def side_by_side(
    current: Sequence[TimelineRow], first: Sequence[TimelineRow]
) -> list[tuple[TimelineRow, TimelineRow]]:
    """The rows of the timeline by current periods and by first announced ones, paired by
    period, in time order: a period only one of them has pairs with an empty row."""
    by_period = {row.period: row for row in current}
    firsts = {row.period: row for row in first}
    periods = sorted({row.period: row for row in (*first, *current)}.values(), key=_order)
    return [
        (by_period.get(row.period, TimelineRow(row.period, row.coarse)),
         firsts.get(row.period, TimelineRow(row.period, row.coarse)))
        for row in periods
    ]  # fmt: skip


def cumulative(rows: Sequence[TimelineRow]) -> list[tuple[Amount, Capacity]]:
    """The running totals of chips and figures, row by row."""
    running: list[tuple[Amount, Capacity]] = []
    amount, capacity = Amount(), Capacity()
    for row in rows:
        amount, capacity = amount + row.amount, capacity + row.capacity
        running.append((amount, capacity))
    return running
