"""An entry's life: status changes, edits, what changed since a day, its sources, and checks."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.app import App, api, pass_app
from tracker.cli.options import days, field_options, format_option, grade_option, once
from tracker.cli.render import show_table
from tracker.model.vocabulary import Status

STATUS_HELP = f"""Record that an entry's status changed on a day, with its source.

NEW_STATUS is one of: {", ".join(choice.value for choice in Status)}. The change is added to
the entry's history (`tracker show ID`); the entry's status is that of its latest change by
date, so a change recorded late for an earlier day leaves a later one in force. The source
also joins the entry's sources.

\b
A change is recorded with a warning, and `tracker check` lists it, when it
leaves in the history (in the order of the days):
- a move back to an earlier stage (announced, planned, under-construction,
  operational) without a --note; through paused, cancelled or
  decommissioned, the stage compared is the last one held before them:
  under-construction, paused, announced goes back; announced, paused,
  announced does not;
- cancelled straight to operational without a --note (decommissioned to
  operational is no warning: those chips ran before);
- a change dated before the entry was announced.
"""


@click.command("status", help=STATUS_HELP, short_help="Record a status change, with its date and source.")
@click.argument("entry_id", metavar="ID")
@click.argument("new_status", metavar="NEW_STATUS")
@click.option("--on", "on", required=True, metavar="DATE", help="The day the change took effect: 2025-12-01.")
@click.option("--source", metavar="URL", help="Where the change is reported: a URL or a citation.")
@click.option("--unsourced", is_flag=True, help="Record the change without a source, saying so.")
@click.option("--note", help="Free text, such as why a project moved back.")
@grade_option
@pass_app
def status(
    app: App,
    entry_id: str,
    new_status: str,
    on: str,
    source: str | None,
    unsourced: bool,
    note: str | None,
    grade: str | None,
) -> None:
    with api(app) as tracker:
        change = tracker.status(
            entry_id, new_status, on=on, source=source, unsourced=unsourced, note=note, grade=grade
        )
        still = "" if change.current == change.to_status else f"; a later change keeps it {change.current}"
        click.echo(
            f"{change.entry_id}: {change.from_status} -> {change.to_status} on {change.effective_on}{still}.",
            err=True,
        )


@click.command("sources", short_help="The sources of an entry, or every source, with their grades.")
@click.argument("entry_id", metavar="[ID]", required=False)
@format_option
@pass_app
def sources(app: App, entry_id: str | None, fmt: str) -> None:
    """The sources of an entry (ID): what each of its figures comes from, each with its grade
    (primary, press or secondary), publisher and date. Without ID, every source recorded, with
    the number of entries citing it: `--format csv` exports them with their grades."""
    with api(app) as tracker:
        show_table(tracker.sources(entry_id), fmt)


@click.command("verify", short_help="Record that an entry was checked on a day.")
@click.argument("entry_id", metavar="ID")
@click.option("--on", "on", required=True, metavar="DATE", help="The day it was checked: 2026-12-01.")
@click.option("--source", metavar="URL", help="What it was checked against; it joins the entry's sources.")
@grade_option
@pass_app
def verify(app: App, entry_id: str, on: str, source: str | None, grade: str | None) -> None:
    """Record that the entry ID was checked on a day and still stands as recorded (on
    --source, if given). `tracker show` gives its latest check; `tracker check
    --stale-after DAYS` lists entries not checked for that long."""
    with api(app) as tracker:
        day = tracker.verify(entry_id, on=on, source=source, grade=grade)
    click.echo(f"{entry_id}: verified on {day}.", err=True)


@click.command("check", short_help="Report likely problems in the data; exit 1 if any.")
@click.option(
    "--stale-after",
    metavar="DAYS",
    callback=days,
    help="Also list entries not verified (`tracker verify`) for more than DAYS days; an entry never "
    "verified counts from the day it was recorded.",
)
@format_option
@pass_app
def check(app: App, stale_after: int | None, fmt: str) -> None:
    """Report likely problems in the data, each with its entry and the reason.

    Looks for entries without a source, an online period that ends before the
    announcement, a status moved back to an earlier stage without a note (through
    paused, cancelled or decommissioned, compared with the stage before them), cancelled
    straight to operational without a note, a status change dated before the
    announcement, probable duplicates (same country, same operator or name, chip counts
    within 10%), a part with more chips than its programme (unless that count is a lower
    bound), a part outside its programme's country or scope, an entry operational or
    confirmed without a primary or press source, an entry whose online period has
    ended while it is still announced, planned or under construction (past due), an
    operator with chips but no known headquarters, an entry whose reported power is
    more than 3 times the estimate from its chips' TDP or less than a third of it (a
    unit error, or servers counted as chips), a catalogue model in use without a dense
    BF16 figure or a TDP, with the chips it leaves out of h100e and power (entry
    `(catalogue)`), and, with --stale-after, entries not verified for that long. Exits
    1 when it finds any.
    """
    with api(app) as tracker:
        findings = tracker.check(stale_after=stale_after)
    if not findings:
        if fmt in ("csv", "json"):
            show_table(findings, fmt)  # still a table a program can read: a header, or []
        click.echo("No problems found.", err=True)
        return
    show_table(findings, fmt)
    click.echo(f"{len(findings)} problem{'s' if len(findings) != 1 else ''} found.", err=True)
    click.get_current_context().exit(1)


@click.command("update", short_help="Edit an entry's fields; every change is kept.")
@click.argument("entry_id", metavar="ID")
@field_options(updating=True)
@click.option(
    "--chips",
    metavar="N",
    multiple=True,
    callback=once,
    help="Number of accelerators of the chip lot (or of --unit).",
)
@click.option(
    "--unit",
    metavar="UNIT",
    multiple=True,
    callback=once,
    help="What --chips counts: gpu (the default), superchip, server or rack, as with `tracker add`.",
)
@click.option("--vendor", metavar="V", multiple=True, callback=once, help="Chip vendor of the chip lot.")
@click.option("--model", metavar="M", multiple=True, callback=once, help="Chip model of the chip lot.")
@click.option(
    "--qualifier",
    metavar="Q",
    multiple=True,
    callback=once,
    help='How exact the lot\'s chips are ("" is exact): exact, approx, at-least or up-to; also ~, ≥, ≤.',
)
@click.option(
    "--lot",
    metavar="N",
    multiple=True,
    callback=once,
    help="Which chip lot (needed when the entry has several; a new number adds one).",
)
@click.option(
    "--status",
    metavar="STATUS",
    multiple=True,
    callback=once,
    help="With --lot: the lot's own status, where it differs from its entry's (\"\" for its entry's). "
    "An entry's status changes with `tracker status`, on a day.",
)
@grade_option
@pass_app
def update(app: App, entry_id: str, **options: Any) -> None:
    """Edit an entry's fields, chip lot and sources.

    Every change is kept in the entry's history with its old and new value, the time,
    and the first --source given (`tracker show ID`, `tracker changes`). An empty value
    ("") clears an optional field. Status changes go through `tracker status`.

    With --lot N, --status and --online set that lot's own status and online period,
    where they differ from its entry's ("" gives it its entry's again).
    """
    with api(app) as tracker:
        changes = tracker.update(entry_id, **options)
        for change in changes:
            if change.field == "sources":
                click.echo(f"{entry_id}: source added: {change.new}", err=True)
            else:
                click.echo(
                    f"{entry_id}: {change.field}: {change.old or '(none)'} -> {change.new or '(none)'}",
                    err=True,
                )
        if not changes:
            click.echo(f"{entry_id}: nothing to change.", err=True)


@click.command("changes", short_help="What changed since a day, with sources.")
@click.option("--since", required=True, metavar="DATE", help="The first day (UTC) to report.")
@format_option
@pass_app
def changes(app: App, since: str, fmt: str) -> None:
    """What changed since a day, in the order it was recorded, each with its source: entries
    added, fields edited (`tracker update`, or `tracker import --on-conflict update`: with
    the first source the file adds), status moves (`tracker status`, or an import) and
    entries removed (with what they were and the --note given). CSV and JSON give each
    moment to the microsecond; tables to the second."""
    with api(app) as tracker:
        show_table(tracker.changes(since), fmt)
