"""Reports as tables (:class:`~tracker.service.tables.Table`): the summary, the timeline and the
lists, with their figures, built once for the Python API and for every output format."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from tracker.errors import InvalidValue
from tracker.model.values import POWER_FACTOR
from tracker.model.vocabulary import H100eBasis, Qualifier
from tracker.service.capacity import Measure, measure, rounded
from tracker.service.counts import counted
from tracker.service.filters import Filters
from tracker.service.summary import Totals, check_keys, summarise
from tracker.service.tables import Count, Figure, PeopleView, Table
from tracker.service.timeline import Bucket, TimelineRow, cumulative, side_by_side, timeline

# What CSV and JSON give of a row's figures, after its chips and qualifier; and last, what
# the figures are: the basis of h100e and the power factor of estimated power.
FIGURE_COLUMNS = ("h100e", "h100e_chips", "power_mw", "power_mw_estimated", "power_chips")
MEASURE_COLUMNS = ("h100e_basis", "power_factor")


def number(value: Decimal | None) -> float | None:
    """A figure for programs: rounded to 0.1, always a float (JSON keeps one type)."""
    return None if value is None else float(rounded(value) or 0)


def raw_figures(row: Totals, measure: Measure) -> tuple[object, ...]:
    """A row's figures for programs, rounded to 0.1 (numbers, or None): each with the chips it
    covers (h100e_chips of the row's chips have a rate on the basis), and the part of the
    power estimated from TDP."""
    capacity = row.capacity
    power = measure.power_mw(capacity)
    return (
        number(measure.h100e(capacity)),
        measure.h100e_chips(capacity),
        number(power),
        number(measure.estimated_mw(capacity)) if power is not None else None,
        capacity.power_chips,
    )


def measure_values(measure: Measure) -> tuple[object, ...]:
    """What :data:`MEASURE_COLUMNS` give: ``bf16``, and the power factor as a number."""
    return (measure.basis.value, float(measure.power_factor))


def figures_for_people(row: Totals, measure: Measure) -> tuple[object, ...]:
    """A row's chips, H100-equivalents and power as tables show them: a figure that leaves
    some of the row's chips out is a lower bound (≥), and power partly estimated says so."""
    capacity = row.capacity
    h100e, power = measure.h100e(capacity), measure.power_mw(capacity)

    def mark(covered: int) -> str:
        return row.qualifier.plus(Qualifier.EXACT if covered >= row.chips else Qualifier.AT_LEAST).value

    return (
        Count(row.chips, row.qualifier.value),
        None if h100e is None else Figure(h100e, mark(measure.h100e_chips(capacity))),
        None if power is None else Figure(power, mark(capacity.power_chips), 1, bool(capacity.tdp_chips)),
    )


def _blanks(keys: Sequence[str]) -> dict[str, str]:
    """What tables show for a key without a value."""
    return {key: blank_key(key) for key in keys}


def blank_key(key: str) -> str:
    """What a report shows for a key without a value: a programme spanning countries, a
    country in no region, an operator's or vendor's nationality not known, a value not given."""
    return {
        "region": "(no region)",
        "country": "(multi-country)",
        "operator-country": "(unknown)",
        "vendor-country": "(unknown)",
    }.get(key, "(not given)")


def summary_table(
    session: Session,
    filters: Filters,
    keys: Sequence[str],
    *,
    with_total: bool = True,
    basis: H100eBasis = H100eBasis.BF16,
    power_factor: Decimal = POWER_FACTOR,
) -> Table:
    """Planned totals grouped by ``keys`` (:func:`tracker.service.summary.summarise`), with their
    figures on ``basis`` and ``power_factor``, and (``with_total``) the total row, every chip
    counted once."""
    keys = check_keys(keys)
    found, overall = summarise(session, filters, keys, with_total=with_total, basis=basis)
    measured = measure(session, basis, power_factor)
    columns = (*keys, "entries", "chips", "qualifier", *FIGURE_COLUMNS, *MEASURE_COLUMNS)

    def values(row: Totals, keys_of: Sequence[object]) -> tuple[object, ...]:
        return (
            *keys_of,
            row.entries,
            row.chips,
            row.qualifier.value,
            *raw_figures(row, measured),
            *measure_values(measured),
        )

    label = ("Total", *([None] * (len(keys) - 1)))
    people = PeopleView(
        (*keys, "entries", "chips", "h100e", "power_mw"),
        [(*row.keys, row.entries, *figures_for_people(row, measured)) for row in found],
        None if overall is None else (*label, overall.entries, *figures_for_people(overall, measured)),
        _blanks(keys),
    )
    notes = (f"{measured.h100e_note}; {measured.power_note}.",) if found else ()
    total = None if overall is None else values(overall, label)
    return Table(columns, [values(row, row.keys) for row in found], total, notes, people)


def timeline_table(
    session: Session,
    filters: Filters,
    bucket: Bucket,
    *,
    with_cumulative: bool,
    with_first: bool = False,
    basis: H100eBasis = H100eBasis.BF16,
    split: str | None = None,
) -> Table:
    """Chips and h100e (on ``basis``) coming online per period
    (:func:`tracker.service.timeline.timeline`), with running totals if asked, beside the
    chips first announced for each period if asked (``with_first``), and the total row;
    ``split``: each period's rows by the values of a summary key (``family``) instead."""
    if split is not None:
        if with_cumulative or with_first:
            raise InvalidValue(
                "by",
                f"--cumulative and --first-announced count whole periods; give them without --by {split}",
            )
        return _split_timeline(session, filters, bucket, basis, split)
    cover = counted(session, filters)
    rows, overall = timeline(session, filters, bucket, cover=cover)
    firsts: list[TimelineRow] = []
    if with_first:
        pairs = side_by_side(rows, timeline(session, filters, bucket, first=True, cover=cover)[0])
        rows, firsts = [current for current, _ in pairs], [first for _, first in pairs]
    measured = measure(session, basis)
    totals = [row.totals() for row in rows]
    sums = [Totals((), 0, a.chips, a.qualifier, capacity, a.bits) for a, capacity in cumulative(rows)]
    columns: tuple[str, ...] = ("period", "entries", "chips", "qualifier", "h100e", "h100e_chips")
    values = [
        (row.keys[0], row.entries, row.chips, row.qualifier.value, *raw_figures(row, measured)[:2])
        for row in totals
    ]
    people_columns: tuple[str, ...] = ("period", "entries", "chips", "h100e")
    people_rows = [(row.keys[0], row.entries, *figures_for_people(row, measured)[:2]) for row in totals]
    total = (
        "Total",
        overall.entries,
        overall.chips,
        overall.qualifier.value,
        *raw_figures(overall, measured)[:2],
    )
    people_total: tuple[object, ...] = ("Total", overall.entries, *figures_for_people(overall, measured)[:2])
    if with_cumulative:
        columns += ("cumulative_chips", "cumulative_qualifier", "cumulative_h100e")
        values = [
            (*row, total_.chips, total_.qualifier.value, number(measured.h100e(total_.capacity)))
            for row, total_ in zip(values, sums, strict=True)
        ]
        total = (*total, None, None, None)
        people_columns += ("cumulative_chips", "cumulative_h100e")
        people_rows = [
            (*row, *figures_for_people(total_, measured)[:2])
            for row, total_ in zip(people_rows, sums, strict=True)
        ]
        people_total += (None, None)
    if with_first:
        columns += ("first_chips", "first_qualifier")
        values = [
            (*row, first.amount.chips, first.amount.qualifier.value)
            for row, first in zip(values, firsts, strict=True)
        ]
        total = (*total, overall.chips, overall.qualifier.value)  # the same chips, in other rows
        people_columns += ("first_chips",)
        people_rows = [
            (*row, Count(first.amount.chips, first.amount.qualifier.value))
            for row, first in zip(people_rows, firsts, strict=True)
        ]
        people_total += (Count(overall.chips, overall.qualifier.value),)
    columns += ("h100e_basis",)
    values = [(*row, basis.value) for row in values]
    total = (*total, basis.value)
    notes = (f"{measured.h100e_note}.",) if rows else ()
    return Table(columns, values, total, notes, PeopleView(people_columns, people_rows, people_total))


def _split_timeline(session: Session, filters: Filters, bucket: Bucket, basis: H100eBasis, key: str) -> Table:
    """The timeline with each period's rows by ``key``: most chips first within a period."""
    (key,) = check_keys((key,))
    rows, overall = timeline(session, filters, bucket, key)
    measured = measure(session, basis)
    found = [
        (row.label, value, part.totals())
        for row in rows
        for value, part in sorted(
            row.split.items(), key=lambda item: (-item[1].amount.chips, str(item[0] or ""))
        )
    ]
    columns = ("period", key, "entries", "chips", "qualifier", "h100e", "h100e_chips", "h100e_basis")
    values = [
        (
            period,
            value,
            totals.entries,
            totals.chips,
            totals.qualifier.value,
            *raw_figures(totals, measured)[:2],
        )
        for period, value, totals in found
    ]
    values = [(*row, basis.value) for row in values]
    total = (
        "Total",
        None,
        overall.entries,
        overall.chips,
        overall.qualifier.value,
        *raw_figures(overall, measured)[:2],
        basis.value,
    )
    people = PeopleView(
        ("period", key, "entries", "chips", "h100e"),
        [
            (period, value, totals.entries, *figures_for_people(totals, measured)[:2])
            for period, value, totals in found
        ],
        ("Total", None, overall.entries, *figures_for_people(overall, measured)[:2]),
        _blanks((key,)),
    )
    notes = (f"{measured.h100e_note}.",) if rows else ()
    return Table(columns, values, total, notes, people)
