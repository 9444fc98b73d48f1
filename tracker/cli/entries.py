"""Entry commands: add, list, show, remove."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.app import App, api, pass_app
from tracker.cli.options import field_options, filter_options, format_option, grade_option
from tracker.cli.render import show_table
from tracker.errors import TrackerError
from tracker.model.fields import choices_help
from tracker.model.vocabulary import Qualifier, Unit


@click.command("add")
@click.argument("name")
@field_options(updating=False)
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
    help=f'How exact --chips is: {choices_help(Qualifier)} (also ~, ≥, ≤); default exact. "More than '
    '100,000" is at-least.',
)
@click.option(
    "--unit",
    metavar="UNIT",
    multiple=True,
    help=f"What --chips counts: {choices_help(Unit)}; default gpu (one accelerator package). A GB200 or "
    "GB300 superchip holds 2 GPUs, an NVL72 rack 72, a DGX or HGX server 8 (`tracker chips` gives "
    "each model's); the accelerators are stored, and the count as announced is kept and shown.",
)
@grade_option
@pass_app
def entry_add(app: App, name: str, **options: Any) -> None:
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
    with api(app) as tracker:
        click.echo(tracker.add(name, **options))


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
    with api(app) as tracker:
        show_table(tracker.list(unsourced=unsourced, **filters), fmt)


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

    with api(app) as tracker:
        print_entry(tracker.show(entry_id), fmt)


@click.command("remove")
@click.argument("entry_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--note", help="Why it goes, such as: a duplicate of another entry.")
@pass_app
def entry_remove(app: App, entry_id: str, yes: bool, note: str | None) -> None:
    """Remove an entry with its chip lots and history.

    What it was (name, place, chips), when, and --note are kept: `tracker changes` lists it.
    """
    with api(app) as tracker:
        if not yes:
            detail = tracker.show(entry_id)
            chips = f"{detail.chips:,} chips in {len(detail.lots)} lot(s)" if detail.lots else "no chip count"
            if not click.confirm(f"Remove {entry_id} ({detail.entry.name}, {chips})?", err=True):
                raise TrackerError(f"{entry_id} was not removed; --yes removes without asking")
        tracker.remove(entry_id, note=note)
    click.echo(f"Removed {entry_id}.", err=True)
