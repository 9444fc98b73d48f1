"""Reports that list things as tables (:class:`~tracker.service.tables.Table`): entries, changes,
likely problems, sources, regions, the chip catalogue and token figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.countries import country_name
from tracker.model.tables import ChipVendor, ChipVendorAlias, Entry, EntrySource, Source
from tracker.model.tokens import count_in_words
from tracker.service.checks import find_problems
from tracker.service.database import bytewise
from tracker.service.details import EntryRow, entry_sources, list_entries
from tracker.service.filters import Filters
from tracker.service.history import changes_since
from tracker.service.reference import list_chip_models, list_regions, region_countries
from tracker.service.tables import Count, PeopleView, Table
from tracker.service.tokens import TokenRow, list_tokens

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
    # CSV and JSON give each moment as recorded, to the microsecond; people read it to the second.
    shown = [(when.replace(microsecond=0), *rest) for when, *rest in values]
    return Table(columns, values, people=PeopleView(columns, shown, blank=""))


def check_table(session: Session, stale_after: int | None = None) -> Table:
    """Likely problems in the data, each with its entry and why."""
    return Table(
        ("entry", "problem"),
        [(finding.entry_id, finding.problem) for finding in find_problems(session, stale_after)],
    )


def sources_table(session: Session, entry_id: str) -> Table:
    """The sources of an entry."""
    values = [(s.reference, s.grade, s.publisher, s.published_on) for s in entry_sources(session, entry_id)]
    return Table(("source", "grade", "publisher", "published"), values)


def all_sources_table(session: Session) -> Table:
    """Every source recorded, by reference (bytewise), with its grade, publisher, date and the
    number of entries citing it."""
    citing = (
        sa.select(sa.func.count(EntrySource.entry_id))
        .where(EntrySource.source_id == Source.id)
        .scalar_subquery()
    )
    query = sa.select(Source.reference, Source.grade, Source.publisher, Source.published_on, citing).order_by(
        bytewise(session, Source.reference)
    )
    return Table(
        ("source", "grade", "publisher", "published", "entries"),
        [tuple(row) for row in session.execute(query)],
    )


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
        "per_superchip", "per_server", "per_rack", "figures_source", "vendor_country",
        "vendor_country_source", "fp16_tflops", "int8_tops",
    )  # fmt: skip
    countries = vendor_countries(session)
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
            *countries.get(m.vendor, (None, None)),
            m.fp16_tflops,
            m.int8_tops,
        )
        for m in models
    ]
    people = PeopleView(
        (
            "vendor",
            "vendor_country",
            "model",
            "family",
            "bf16_tflops",
            "fp16_tflops",
            "fp8_tflops",
            "int8_tops",
            "tdp_w",
            "holds",
            "aliases",
            "figures_source",
        ),
        [
            (
                m.vendor,
                countries.get(m.vendor, (None, None))[0],
                m.model,
                m.family,
                m.bf16_tflops,
                m.fp16_tflops,
                m.fp8_tflops,
                m.int8_tops,
                m.tdp_w,
                m.holds_text,
                ", ".join(m.aliases),
                m.figures_source,
            )
            for m in models
        ],
    )
    return Table(columns, values, people=people)


def vendor_countries(session: Session) -> dict[str, tuple[str | None, str | None]]:
    """Each vendor's country (its headquarters: the chip designer's nationality) and source."""
    query = sa.select(ChipVendor.name, ChipVendor.country, ChipVendor.country_source)
    return {name: (country, source) for name, country, source in session.execute(query)}


def vendors_table(session: Session) -> Table:
    """The chip vendors: each with its other spellings, its country and where that is stated."""
    aliases: dict[str, list[str]] = {}
    for alias, vendor in session.execute(
        sa.select(ChipVendorAlias.alias, ChipVendorAlias.vendor).order_by(
            bytewise(session, ChipVendorAlias.alias)
        )
    ):
        aliases.setdefault(vendor, []).append(alias)
    query = sa.select(ChipVendor.name, ChipVendor.country, ChipVendor.country_source).order_by(
        bytewise(session, ChipVendor.name)
    )
    values = [
        (name, country, ", ".join(aliases.get(name, ())), source)
        for name, country, source in session.execute(query)
    ]
    return Table(("vendor", "country", "aliases", "country_source"), values)


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


def operators_table(session: Session) -> Table:
    """Every operator with its headquarters country, kind, group, aliases and source, and the
    entries and planned chips it runs, counted as the summary counts them (every chip once);
    most chips first, then by name."""
    from tracker.service import counts
    from tracker.service.filters import Filters
    from tracker.service.operators import list_operators
    from tracker.service.summary import grouped_totals

    filters = Filters()
    counted = {
        totals.keys[0]: totals
        for totals in grouped_totals(session, filters, ("operator",), counts.counted(session, filters))
    }
    entries: dict[str | None, int] = {
        name: count
        for name, count in session.execute(
            sa.select(Entry.operator, sa.func.count()).group_by(Entry.operator)
        )
    }
    columns = (
        "operator",
        "hq_country",
        "kind",
        "group",
        "aliases",
        "entries",
        "chips",
        "qualifier",
        "source",
    )
    values = []
    people_rows = []
    # Most chips first, then by name (byte order, as the database gives them).
    ordered = sorted(
        list_operators(session), key=lambda row: -(counted[row.name].chips if row.name in counted else 0)
    )
    for row in ordered:
        totals = counted.get(row.name)
        chips = totals.chips if totals else 0
        qualifier = totals.qualifier.value if totals else "exact"
        aliases = ", ".join(row.aliases)
        values.append(
            (row.name, row.hq_country, row.kind, row.group_name, aliases, entries.get(row.name, 0), chips,
             qualifier, row.source)
        )  # fmt: skip
        count = Count(chips, qualifier)
        people_rows.append(
            (row.name, row.hq_country, row.kind, row.group_name, entries.get(row.name, 0), count, aliases)
        )
    people = PeopleView(
        ("operator", "hq_country", "kind", "group", "entries", "chips", "aliases"),
        people_rows,
        blank={"hq_country": "(unknown)"},
        notes=(
            "chips: planned, counted as `tracker summary --by operator` counts them; sources: --format csv.",
        )
        if people_rows
        else (),
    )
    return Table(columns, values, people=people)
