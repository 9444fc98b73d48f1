"""Reports as tables (:class:`~tracker.service.tables.Table`): the summary, the timeline and the
lists, with their figures, built once for the Python API and for every output format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from tracker.model.countries import country_name
from tracker.model.tokens import count_in_words
from tracker.model.vocabulary import Qualifier
from tracker.service.capacity import POWER_BASIS, h100e_basis, reference_tflops, rounded
from tracker.service.checks import find_problems
from tracker.service.details import EntryRow, entry_sources, list_entries
from tracker.service.filters import Filters
from tracker.service.history import changes_since
from tracker.service.reference import list_chip_models, list_regions, region_countries
from tracker.service.summary import Totals, check_keys, summarise
from tracker.service.tables import Count, Figure, PeopleView, Table
from tracker.service.timeline import Bucket, cumulative, timeline
from tracker.service.tokens import TokenRow, list_tokens

# What CSV and JSON give of a row's figures, after its chips and qualifier.
FIGURE_COLUMNS = ("h100e", "h100e_chips", "power_mw", "power_mw_estimated", "power_chips")


def number(value: Decimal | None) -> float | None:
    """A figure for programs: rounded to 0.1, always a float (JSON keeps one type)."""
    return None if value is None else float(rounded(value) or 0)


def raw_figures(row: Totals, reference: Decimal | None) -> tuple[object, ...]:
    """A row's figures for programs, rounded to 0.1 (numbers, or None): each with the chips it
    covers (h100e_chips of the row's chips have a BF16 figure), and the part of the power
    estimated from TDP."""
    capacity = row.capacity
    power = capacity.power_mw
    return (
        number(capacity.h100e(reference)),
        capacity.bf16_chips,
        number(power),
        number(capacity.estimated_mw) if power is not None else None,
        capacity.power_chips,
    )


def figures_for_people(row: Totals, reference: Decimal | None) -> tuple[object, ...]:
    """A row's chips, H100-equivalents and power as tables show them: a figure that leaves
    some of the row's chips out is a lower bound (≥), and power partly estimated says so."""
    capacity = row.capacity
    h100e, power = capacity.h100e(reference), capacity.power_mw

    def mark(covered: int) -> str:
        return row.qualifier.plus(Qualifier.EXACT if covered >= row.chips else Qualifier.AT_LEAST).value

    return (
        Count(row.chips, row.qualifier.value),
        None if h100e is None else Figure(h100e, mark(capacity.bf16_chips)),
        None if power is None else Figure(power, mark(capacity.power_chips), 1, bool(capacity.tdp_chips)),
    )


def _blanks(keys: Sequence[str]) -> dict[str, str]:
    """What tables show for a key without a value."""
    return {
        key: {"region": "(no region)", "country": "(multi-country)"}.get(key, "(not given)") for key in keys
    }


def summary_table(
    session: Session, filters: Filters, keys: Sequence[str], *, with_total: bool = True
) -> Table:
    """Planned totals grouped by ``keys`` (:func:`tracker.service.summary.summarise`), with their
    figures, and (``with_total``) the total row, every chip counted once."""
    keys = check_keys(keys)
    found, overall = summarise(session, filters, keys, with_total=with_total)
    reference = reference_tflops(session)
    columns = (*keys, "entries", "chips", "qualifier", *FIGURE_COLUMNS)

    def values(row: Totals, keys_of: Sequence[object]) -> tuple[object, ...]:
        return (*keys_of, row.entries, row.chips, row.qualifier.value, *raw_figures(row, reference))

    label = ("Total", *([None] * (len(keys) - 1)))
    people = PeopleView(
        (*keys, "entries", "chips", "h100e", "power_mw"),
        [(*row.keys, row.entries, *figures_for_people(row, reference)) for row in found],
        None if overall is None else (*label, overall.entries, *figures_for_people(overall, reference)),
        _blanks(keys),
    )
    notes = (f"{h100e_basis(reference)}; {POWER_BASIS}.",) if found else ()
    total = None if overall is None else values(overall, label)
    return Table(columns, [values(row, row.keys) for row in found], total, notes, people)


def timeline_table(session: Session, filters: Filters, bucket: Bucket, *, with_cumulative: bool) -> Table:
    """Chips and h100e coming online per period (:func:`tracker.service.timeline.timeline`),
    with running totals if asked, and the total row."""
    rows, overall = timeline(session, filters, bucket)
    reference = reference_tflops(session)
    totals = [row.totals() for row in rows]
    sums = [Totals((), 0, a.chips, a.qualifier, capacity, a.bits) for a, capacity in cumulative(rows)]
    columns: tuple[str, ...] = ("period", "entries", "chips", "qualifier", "h100e", "h100e_chips")
    values = [
        (row.keys[0], row.entries, row.chips, row.qualifier.value, *raw_figures(row, reference)[:2])
        for row in totals
    ]
    people_columns: tuple[str, ...] = ("period", "entries", "chips", "h100e")
    people_rows = [(row.keys[0], row.entries, *figures_for_people(row, reference)[:2]) for row in totals]
    total = (
        "Total",
        overall.entries,
        overall.chips,
        overall.qualifier.value,
        *raw_figures(overall, reference)[:2],
    )
    people_total: tuple[object, ...] = ("Total", overall.entries, *figures_for_people(overall, reference)[:2])
    if with_cumulative:
        columns += ("cumulative_chips", "cumulative_qualifier", "cumulative_h100e")
        values = [
            (*row, total_.chips, total_.qualifier.value, number(total_.capacity.h100e(reference)))
            for row, total_ in zip(values, sums, strict=True)
        ]
        total = (*total, None, None, None)
        people_columns += ("cumulative_chips", "cumulative_h100e")
        people_rows = [
            (*row, *figures_for_people(total_, reference)[:2])
            for row, total_ in zip(people_rows, sums, strict=True)
        ]
        people_total += (None, None)
    notes = (f"{h100e_basis(reference)}.",) if rows else ()
    return Table(columns, values, total, notes, PeopleView(people_columns, people_rows, people_total))


LIST_COLUMNS = ("id", "name", "country", "operator", "status", "announced", "online", "vendor", "chips")


def list_table(session: Session, filters: Filters) -> Table:
    """Entries by id with their own chip counts (all lots, any status): a programme and its
    parts each with their own, so that the rows do not add up (the summary counts once)."""
    entries = list(list_entries(session, filters))
    columns = (*LIST_COLUMNS, "qualifier", "kind", "parent", "scope")
    values = [
        (*_listed(entry), entry.chips, _qualifier(entry), entry.kind, entry.parent, entry.scope)
        for entry in entries
    ]
    parts = any(entry.parent is not None for entry in entries)
    note = (
        "Note: programmes and their parts are each listed with their own count; `tracker summary` counts "
        "every chip once."
    )
    people = PeopleView(
        LIST_COLUMNS,
        [(*_listed(entry), _count(entry)) for entry in entries],
        blank={"country": "(multi-country)"},
        notes=(note,) if parts else (),
    )
    return Table(columns, values, people=people)


def _count(entry: EntryRow) -> Count | None:
    return None if entry.chips is None else Count(entry.chips, entry.qualifier.value)


def _listed(entry: EntryRow) -> tuple[object, ...]:
    return (
        entry.id,
        entry.name,
        entry.country,
        entry.operator,
        entry.status,
        entry.announced,
        entry.online,
        entry.vendors,
    )


def _qualifier(entry: EntryRow) -> str | None:
    return entry.qualifier.value if entry.chips is not None else None


def changes_table(session: Session, since: str) -> Table:
    """What was recorded since a day (:func:`tracker.service.history.changes_since`)."""
    columns = ("when", "entry", "change", "old", "new", "source")
    values = [
        (change.when, change.entry_id, change.what, change.old, change.new, change.source)
        for change in changes_since(session, since)
    ]
    return Table(columns, values, people=PeopleView(columns, values, blank=""))


def check_table(session: Session) -> Table:
    """Likely problems in the data, each with its entry and why."""
    return Table(
        ("entry", "problem"), [(finding.entry_id, finding.problem) for finding in find_problems(session)]
    )


def sources_table(session: Session, entry_id: str) -> Table:
    """The sources of an entry."""
    values = [(s.reference, s.publisher, s.published_on) for s in entry_sources(session, entry_id)]
    return Table(("source", "publisher", "published"), values)


def regions_table(session: Session, region: str | None = None) -> Table:
    """The regions, or the countries of one."""
    if region:
        return Table(
            ("country", "name"), [(code, country_name(code)) for code in region_countries(session, region)]
        )
    columns = ("region", "name", "countries", "definition", "source")
    return Table(
        columns, [(r.id, r.name, len(r.countries), r.definition, r.source) for r in list_regions(session)]
    )


def chips_table(session: Session, vendors: Sequence[str] = ()) -> Table:
    """The chip catalogue, each model with its figures and their source."""
    models = list(list_chip_models(session, vendors))
    columns = (
        "vendor", "model", "family", "aliases", "notes", "bf16_tflops", "fp8_tflops", "tdp_w",
        "per_superchip", "per_server", "per_rack", "figures_source",
    )  # fmt: skip
    values = [
        (
            m.vendor,
            m.model,
            m.family,
            ", ".join(m.aliases),
            m.notes,
            m.bf16_tflops,
            m.fp8_tflops,
            m.tdp_w,
            *(dict(m.holds).get(unit) for unit in ("superchip", "server", "rack")),
            m.figures_source,
        )
        for m in models
    ]
    people = PeopleView(
        (
            "vendor",
            "model",
            "family",
            "bf16_tflops",
            "fp8_tflops",
            "tdp_w",
            "holds",
            "aliases",
            "figures_source",
        ),
        [
            (
                m.vendor,
                m.model,
                m.family,
                m.bf16_tflops,
                m.fp8_tflops,
                m.tdp_w,
                m.holds_text,
                ", ".join(m.aliases),
                m.figures_source,
            )
            for m in models
        ],
    )
    return Table(columns, values, people=people)


def tokens_table(session: Session, providers: Iterable[str] = ()) -> Table:
    """Token figures by provider and period, in tokens per day, with their growth."""
    found = list(list_tokens(session, list(providers)))
    columns = (
        "provider", "as_of", "tokens_per_day", "reported_tokens", "reported_per", "share_pct", "growth_pct",
        "since", "source", "note",
    )  # fmt: skip
    values = [
        (row.provider, row.period, row.tokens_per_day, row.reported_tokens, row.reported_per, row.share_pct,
         row.growth_pct, row.since, row.source, row.note)
        for row in found
    ]  # fmt: skip
    people = PeopleView(
        (
            "provider",
            "as_of",
            "tokens_per_day",
            "reported",
            "share_pct",
            "growth_pct",
            "since",
            "source",
            "note",
        ),
        [_tokens_for_people(row) for row in found],
    )
    return Table(columns, values, people=people)


def _tokens_for_people(row: TokenRow) -> tuple[object, ...]:
    """A token figure as tables show it: as reported, in words; percentages with their sign."""
    reported = (
        f"{count_in_words(row.reported_tokens)} per {row.reported_per}" if row.reported_tokens else None
    )
    share = f"{row.share_pct.normalize():f}%" if row.share_pct is not None else None
    growth = f"{row.growth_pct:+}%" if row.growth_pct is not None else None
    return (
        row.provider,
        row.period,
        row.tokens_per_day,
        reported,
        share,
        growth,
        row.since,
        row.source,
        row.note,
    )
