"""Entry commands: add, list, show, remove."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.app import App, open_session, pass_app
from tracker.cli.options import filter_options, format_option
from tracker.cli.render import render
from tracker.errors import InvalidValue, TrackerError
from tracker.model.vocabulary import Choice, Confidence, Kind, Qualifier, Sponsor, Status, Unit

if TYPE_CHECKING:
    from tracker.service.details import EntryRow


def one_of(choices: type[Choice]) -> str:
    """A vocabulary's values for help text: "a, b or c"."""
    values = [choice.value for choice in choices]
    return ", ".join(values[:-1]) + " or " + values[-1]


@click.command("add")
@click.argument("name")
@click.option("--country", metavar="C", help="ISO code or English name: FR, FRA, France, UK.")
@click.option(
    "--scope",
    metavar="REGION",
    help="For a programme spanning several countries, instead of --country: a region such as "
    "europe or eu (see `tracker regions`).",
)
@click.option(
    "--id", "entry_id", metavar="ID", help="Id to give it (default: made from NAME, such as nebius-uk)."
)
@click.option("--operator", help="Who runs it.")
@click.option("--city", help="Where the site is, within its country.")
@click.option("--kind", metavar="KIND", help=f"{one_of(Kind)}.")
@click.option("--sponsor", metavar="SPONSOR", help=f"{one_of(Sponsor)} (leave out when unknown).")
@click.option("--status", metavar="STATUS", help=f"{one_of(Status)}; default {Status.ANNOUNCED}.")
@click.option("--confidence", metavar="CONFIDENCE", help=f"{one_of(Confidence)}.")
@click.option("--announced", metavar="DATE", help="Day it was announced: 2025-06-11.")
@click.option(
    "--online",
    metavar="PERIOD",
    help="When it comes online, as precisely as known: 2025-12, Q4 2025, H2 2026, 2026.",
)
# multiple=True only so that a repeated lot option is refused, not silently overwritten.
@click.option("--chips", metavar="N", multiple=True, help="Number of accelerators (needs --vendor).")
@click.option(
    "--vendor", metavar="V", multiple=True, help="Chip vendor, such as NVIDIA; `unknown` when not disclosed."
)
@click.option("--model", metavar="M", multiple=True, help="Chip model, such as B300 (see `tracker chips`).")
@click.option(
    "--qualifier",
    metavar="Q",
    multiple=True,
    help=f'How exact --chips is: {one_of(Qualifier)} (also ~, ≥, ≤); default exact. "More than 100,000" '
    "is at-least.",
)
@click.option(
    "--unit",
    metavar="UNIT",
    multiple=True,
    help=f"What --chips counts: {one_of(Unit)}; default gpu (one accelerator package). A GB200 or "
    "GB300 superchip holds 2 GPUs, an NVL72 rack 72, a DGX or HGX server 8 (`tracker chips` gives "
    "each model's); the accelerators are stored, and the count as announced is kept and shown.",
)
@click.option("--power-mw", metavar="X", help="Power capacity in megawatts.")
@click.option(
    "--parent",
    metavar="ID",
    help="The programme it is part of: its chips then count once, within the programme's.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="URL",
    help="Where the figures come from: a URL or a citation. Repeatable.",
)
@click.option("--note", help="Free text.")
@pass_app
def entry_add(
    app: App,
    name: str,
    entry_id: str | None,
    sources: tuple[str, ...],
    note: str | None,
    **fields: str | None,
) -> None:
    """Add an announcement, with its chips, and print its id.

    \b
    Example:
      tracker add "Example AI Campus" --country France --operator "Example Cloud" \\
        --chips 4000 --vendor NVIDIA --model B300 --announced 2025-06-11 \\
        --online "Q4 2025" --source https://example.org/announcement

    \b
    A plan that spans countries is a programme with a scope; its sites are its parts:
      tracker add "Example EU plan" --kind programme --scope eu --chips 100000 \\
        --qualifier at-least --vendor NVIDIA --source https://example.org/plan
      tracker add "Example site" --country FR --parent example-eu-plan ...
    """
    from tracker.service.checks import outside_programme
    from tracker.service.entries import add_entry_from_text

    raw: dict[str, Any] = dict(fields, name=name, id=entry_id, notes=note, sources=sources)
    if any(not unit.strip() for unit in fields["unit"] or ()):
        raise InvalidValue("unit", "is empty; give gpu, superchip, server or rack")
    if raw.pop("unit", None):
        # --chips counts the --unit: the service reads it as the count announced.
        raw["announced_chips"], raw["announced_unit"] = raw.pop("chips"), fields["unit"]
    with open_session(app, writes=True) as session:
        new_id, similar = add_entry_from_text(session, raw)
        outside = outside_programme(session, new_id)
    click.echo(new_id)
    if outside:
        warn_outside(new_id, outside)
    if similar:
        place = "country" if fields.get("country") else "scope"
        click.echo(
            f"Warning: {new_id} may be the same announcement as {', '.join(similar)} (same {place}, and "
            "the same operator or chip count); if so, remove one, or the chips count twice",
            err=True,
        )


def warn_outside(entry_id: str, outside: str) -> None:
    """Warn that a part lies outside its programme's country or scope."""
    click.echo(f"Warning: {entry_id} {outside}; its chips count there, and its programme adds less", err=True)


@click.command("list", short_help="List entries and their chip counts.")
@filter_options
@click.option("--unsourced", is_flag=True, help="Only entries without any source.")
@format_option
@pass_app
def entry_list(app: App, filters: dict[str, Any], unsourced: bool, fmt: str) -> None:
    """List entries, by id, with their chip counts (all lots, whatever their status).

    Each entry's own count is shown: a programme and its parts are both listed in
    full, so adding up this list counts their chips twice (`tracker summary` counts
    each chip once). CSV and JSON add `qualifier` (how exact the count is; tables mark
    it ~, ≥ or ≤), `kind`, `parent` and a programme's `scope`.
    """
    from tracker.service.details import list_entries
    from tracker.service.filters import resolve_filters

    columns = ("id", "name", "country", "operator", "status", "announced", "online", "vendor", "chips")
    for_people = fmt in ("table", "markdown")
    with open_session(app) as session:
        entries = list_entries(session, resolve_filters(session, unsourced=unsourced, **filters))
        parts: set[str] = set()  # of programmes listed: to say, at the end, that they count once

        def rows() -> Iterator[list[object]]:
            for entry in entries:
                if entry.parent is not None:
                    parts.add(entry.id)
                yield _list_row(entry, for_people)

        shown = columns if for_people else (*columns, "qualifier", "kind", "parent", "scope")
        render(shown, rows(), fmt, blank={"country": "(multi-country)"})
    if for_people and parts:
        click.echo(
            "Note: programmes and their parts are each listed with their own count; "
            "`tracker summary` counts every chip once.",
            err=True,
        )


def _list_row(e: EntryRow, for_people: bool) -> list[object]:
    """A line of ``tracker list``: for people the count is marked with its qualifier
    (``≥ 500,000``); for programs the qualifier is a column of its own."""
    from tracker.cli.render import Count

    row: list[object] = [e.id, e.name, e.country, e.operator, e.status, e.announced, e.online, e.vendors]
    if for_people:
        return [*row, Count(e.chips, e.qualifier.value) if e.chips is not None else None]
    qualifier = e.qualifier.value if e.chips is not None else None
    return [*row, e.chips, qualifier, e.kind, e.parent, e.scope]


@click.command("show", short_help="Show one entry in full.")
@click.argument("entry_id", metavar="ID")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"], case_sensitive=False),
    default="table",
    show_default=True,
)
@pass_app
def entry_show(app: App, entry_id: str, fmt: str) -> None:
    """Show one entry: its fields, chip lots, sources and status history.

    For a programme, also its parts, with what each counts, and what the programme
    counts in totals: its parts, plus what its own figure says beyond them.
    """
    from tracker.cli.show import print_entry
    from tracker.service.details import entry_detail

    with open_session(app) as session:
        print_entry(entry_detail(session, entry_id), fmt)


@click.command("remove")
@click.argument("entry_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--note", help="Why it goes, such as: a duplicate of another entry.")
@pass_app
def entry_remove(app: App, entry_id: str, yes: bool, note: str | None) -> None:
    """Remove an entry with its chip lots and history.

    What it was (name, place, chips), when, and --note are kept: `tracker changes` lists it.
    """
    from tracker.service.details import entry_detail
    from tracker.service.entries import remove_entry

    with open_session(app, writes=True) as session:
        detail = entry_detail(session, entry_id)
        chips = f"{detail.chips:,} chips in {len(detail.lots)} lot(s)" if detail.lots else "no chip count"
        question = f"Remove {entry_id} ({detail.entry.name}, {chips})?"
        if not yes and not click.confirm(question, err=True):
            raise TrackerError(f"{entry_id} was not removed; --yes removes without asking")
        remove_entry(session, entry_id, note)
    click.echo(f"Removed {entry_id}.", err=True)
