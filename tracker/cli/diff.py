"""tracker diff: what changed between two files of the same kind."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from tracker.cli.app import warnings_told
from tracker.cli.options import format_option
from tracker.cli.render import show_table

if TYPE_CHECKING:
    from tracker.api import DiffReport


@click.command(short_help="What changed between two exports, dumps or Epoch releases.")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option(
    "--from",
    "file_format",
    type=click.Choice(("tracker", "epoch"), case_sensitive=False),
    default="tracker",
    show_default=True,
    help="tracker: two exports (or two dumps, told by their first line). epoch: two releases of "
    "Epoch AI's GPU clusters CSV.",
)
@format_option
def diff(old: str, new: str, file_format: str, fmt: str) -> None:
    """What changed from the file OLD to the file NEW: two tracker exports (two dated
    nightly files, say), two dumps, or two Epoch AI releases (--from epoch); - for
    standard input (one of them). Needs no database: each file is read as `tracker
    import` (or `restore`) reads it, into a scratch database of its own. Exit 0
    whether or not anything changed.

    Lists the entries added, removed and changed, a row per field changed: entry,
    name, change (added, removed, changed), field, lot (for a chip lot's field),
    old, new (for sources: those removed, and those added); an entry added or
    removed is given in a few words. Then the planned
    chips (counted as `tracker summary` counts them, every chip once) by country and
    by vendor where they differ: old_chips, new_chips, net_chips.

    --format csv gives the list of changes; json gives an object with the counts
    (added, removed, changed), the changes and the net chips by country and by
    vendor. Rows of an Epoch release with problems are left out of both sides (a
    warning counts them), as `tracker import --from epoch --skip-invalid` leaves
    them out. An export filtered by place may hold parts of a programme it leaves
    out: they are compared as entries of their own, with a warning.
    """
    from tracker.api import diff as diff_files

    with warnings_told():
        report = diff_files(old, new, file_format=file_format)
    show_report(report, fmt)


def show_report(report: DiffReport, fmt: str) -> None:
    """The changes, then (for people) the planned chips by country and by vendor that differ;
    JSON: all of it as one object."""
    if fmt == "json":
        json.dump(report.record(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    if fmt != "csv" and not len(report.changes):
        click.echo("No entry was added, removed or changed.")
        return
    show_table(report.changes, fmt)
    if fmt == "csv":
        return
    for key, table in (("country", report.by_country), ("vendor", report.by_vendor)):
        click.echo(f"\nPlanned chips by {key}, where they differ:")
        if len(table):
            show_table(table, fmt)
        else:
            click.echo("(none)")
