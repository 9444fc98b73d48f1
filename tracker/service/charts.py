"""What a chart shows: bars of chips, stacked, from the summary or the timeline, with the
words that make it readable on its own (what is counted, which filters, as of when).

:func:`draw_chart` draws one with matplotlib (:mod:`tracker.service.plot`, the ``plot``
extra), which is imported only then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.errors import InvalidValue, TrackerError
from tracker.model.periods import Period, Precision
from tracker.service.counts import counted
from tracker.service.filters import Filters
from tracker.service.programmes import Amount
from tracker.service.reports import blank_key
from tracker.service.summary import check_keys, grouped_totals, planned_total
from tracker.service.timeline import Bucket, TimelineRow, bucket_of, cumulative, timeline

MAX_BARS = 15  # more bars than this are summed in one "other" bar
MAX_STACKS = 8  # and more stacked values than this in one "other" value
OTHER = "other"


@dataclass
class ChartData:
    """Bars (categories, in order) of chips, each split by the values of a stack key."""

    title: str
    subtitle: str
    stack_key: str
    total: Amount = field(default_factory=Amount)  # every chip once, as the summary's total
    categories: list[str] = field(default_factory=list)
    totals: list[Amount] = field(default_factory=list)  # each bar's chips, with its qualifier
    series: dict[str, list[int]] = field(default_factory=dict)  # stack value -> chips per bar
    coarse: list[bool] = field(default_factory=list)  # bars of a period coarser than the others'
    running: list[int] = field(default_factory=list)  # chips by the end of each bar, if asked

    @property
    def empty(self) -> bool:
        return not self.categories


def _label(key: str, value: object) -> str:
    return blank_key(key) if value is None else str(value)


def _stacks(cells: dict[tuple[str, str], Amount], categories: Sequence[str]) -> dict[str, list[int]]:
    """The stacked values, largest first, the smallest beyond :data:`MAX_STACKS` as one."""
    by_stack: dict[str, int] = {}
    for (_, stack), amount in cells.items():
        by_stack[stack] = by_stack.get(stack, 0) + amount.chips
    ordered = sorted(by_stack, key=lambda stack: (-by_stack[stack], stack))
    kept = ordered if len(ordered) <= MAX_STACKS else ordered[: MAX_STACKS - 1]
    series: dict[str, list[int]] = {stack: [0] * len(categories) for stack in kept}
    if len(kept) < len(ordered):
        series[OTHER] = [0] * len(categories)
    index = {category: i for i, category in enumerate(categories)}
    for (category, stack), amount in cells.items():
        if category in index:
            series[stack if stack in series else OTHER][index[category]] += amount.chips
    return series


def summary_chart(
    session: Session, filters: Filters, by: str, stack: str, described: str, day: dt.date
) -> ChartData:
    """Chips by ``by`` (bars, most first), stacked by ``stack``."""
    if by == stack:
        raise InvalidValue("stack", f"{stack!r} is the key of the bars too; stack them by another key")
    by, stack = check_keys((by, stack))
    _check_stack(stack)
    cover = counted(session, filters)
    bars = grouped_totals(session, filters, (by,), cover)
    overall = planned_total(session, filters, cover)
    total = overall.amount
    chart = ChartData(
        title=f"AI accelerators by {by}, stacked by {stack}",
        subtitle=_subtitle(filters, described, day, total),
        stack_key=stack,
        total=total,
    )
    labels = [_label(by, row.keys[0]) for row in bars]
    totals = [row.amount for row in bars]
    if len(labels) > MAX_BARS:
        rest = sum(totals[MAX_BARS - 1 :], Amount())
        labels = [*labels[: MAX_BARS - 1], f"{OTHER} ({len(labels) - MAX_BARS + 1})"]
        totals = [*totals[: MAX_BARS - 1], rest]
    chart.categories, chart.totals = labels, totals
    cells: dict[tuple[str, str], Amount] = {}
    for row in grouped_totals(session, filters, (by, stack), cover):
        category = _label(by, row.keys[0])
        if category not in labels:
            category = labels[-1]  # one of the bars summed as "other"
        key = (category, _label(stack, row.keys[1]))
        cells[key] = cells.get(key, Amount()) + row.amount
    chart.series = _stacks(cells, labels)
    return chart


def timeline_chart(
    session: Session,
    filters: Filters,
    bucket: Bucket,
    stack: str,
    described: str,
    day: dt.date,
    *,
    with_running_total: bool = False,
) -> ChartData:
    """Chips coming online per period (bars, in time order, the periods without any too),
    stacked by ``stack``; ``with_running_total``: and all chips online by the end of each bar,
    as ``tracker timeline --cumulative`` counts them."""
    (stack,) = check_keys((stack,))
    _check_stack(stack)
    counted, overall = timeline(session, filters, bucket, stack)
    rows = _with_empty_buckets(counted, bucket)
    total = overall.amount
    running = ", with the running total" if with_running_total else ""
    chart = ChartData(
        title=f"AI accelerators coming online by {bucket}, stacked by {stack}{running}",
        subtitle=_subtitle(filters, described, day, total),
        stack_key=stack,
        total=total,
        categories=[row.label for row in rows],
        totals=[row.amount for row in rows],
        coarse=[row.coarse for row in rows],
    )
    cells = {(row.label, _label(stack, value)): amount for row in rows for value, amount in row.parts.items()}
    chart.series = _stacks(cells, chart.categories)
    if with_running_total:
        chart.running = [amount.chips for amount, _ in cumulative(rows)]
    return chart


def _with_empty_buckets(rows: Sequence[TimelineRow], bucket: Bucket) -> list[TimelineRow]:
    """The timeline's rows with an empty one for each bucket without chips between the first
    dated period and the last, so that bars stand as far apart as their periods; a coarser
    period stays after the buckets it spans, and the undated row last."""
    periods = [row.period for row in rows if row.period is not None]
    if not periods:
        return list(rows)
    first, last, present = min(p.start for p in periods), max(p.end for p in periods), set(periods)
    missing = [period for period in _buckets(first, last, bucket) if period not in present]
    filled: list[TimelineRow] = []
    for row in rows:
        # An empty bucket goes before the first row that does not end before it.
        while missing and (row.period is None or missing[0].end <= row.period.end):
            filled.append(TimelineRow(missing.pop(0)))
        filled.append(row)
    return filled


def _buckets(first: dt.date, last: dt.date, bucket: Bucket) -> Iterator[Period]:
    """Every bucket from the one holding ``first`` to the one holding ``last``."""
    day = first
    while day <= last:
        period, _ = bucket_of(Period(day, Precision.DAY), bucket)
        yield period
        day = period.end + dt.timedelta(days=1)


def _check_stack(stack: str) -> None:
    """Stacks must split a bar, not count its chips twice: a country is in several regions."""
    if stack == "region":
        raise InvalidValue(
            "stack", "region would count a country in two regions twice in one bar; stack by another key"
        )


def _subtitle(filters: Filters, described: str, day: dt.date, total: Amount) -> str:
    planned = "" if filters.statuses else "planned (every status but cancelled and decommissioned)"
    chosen = "; ".join(part for part in (described, planned) if part)
    count = total.qualifier.phrase(f"{total.chips:,}")
    return f"{chosen}; as of {day.isoformat()}; total {count} accelerators, each counted once"


_FILTER_NAMES = {"regions": "region", "countries": "country", "vendors": "vendor", "models": "model",
                 "statuses": "status", "sponsors": "sponsor"}  # fmt: skip


def described(filters: Mapping[str, object]) -> str:
    """The filters given (as options name them), in words, for a chart's subtitle:
    ``region europe or eu, vendor NVIDIA``."""
    parts = []
    for name, value in filters.items():
        values = [value] if isinstance(value, str) else [str(item) for item in value or ()]  # type: ignore[attr-defined]
        if values:
            parts.append(f"{_FILTER_NAMES.get(name, name.replace('_', ' '))} {' or '.join(values)}")
    return ", ".join(parts)


def draw_chart(
    session: Session,
    kind: str,
    path: Path,
    filters: Filters,
    *,
    by: str | None,
    stack: str,
    given: Mapping[str, object],
    cumulative: bool = False,
) -> Path:
    """Draw the summary or the timeline (``kind``) of ``filters`` as stacked bars into
    ``path`` (.png or .svg), written whole or not at all; ``given``: the filters as given,
    for the subtitle; ``cumulative``: the timeline with a line of its running total. Raises
    :class:`NothingToDraw` when there is nothing to draw."""
    from tracker.service.files import atomic_file
    from tracker.service.plot import chart_format, draw, require_matplotlib

    require_matplotlib()
    fmt = chart_format(path)
    if not fmt:
        raise InvalidValue(
            "output", f"{str(path)!r} does not end in .png or .svg; give a file name that does"
        )
    day = filters.as_of or dt.datetime.now(dt.timezone.utc).date()
    if cumulative and kind != "timeline":
        raise InvalidValue("cumulative", "a running total is drawn on the timeline only; draw the timeline")
    if kind == "summary":
        data = summary_chart(
            session, filters, (by or "country").lower(), stack.lower(), described(given), day
        )
    elif kind == "timeline":
        bucket = Bucket((by or "quarter").lower())
        data = timeline_chart(
            session, filters, bucket, stack.lower(), described(given), day, with_running_total=cumulative
        )
    else:
        raise InvalidValue("kind", f"unknown chart {kind!r}; draw summary or timeline")
    if data.empty:
        raise NothingToDraw()
    with atomic_file(path, "output", binary=True) as stream:
        draw(data, stream, fmt)
    return path


class NothingToDraw(TrackerError):
    """No chips match the filters: a chart of nothing is not written."""

    def __init__(self) -> None:
        super().__init__("no matching rows: no chart written")
