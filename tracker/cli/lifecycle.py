"""Lifecycle commands: status changes and an entry's sources."""

from __future__ import annotations

import click

from tracker.cli.app import App, open_session, pass_app
from tracker.cli.options import format_option
from tracker.cli.render import render
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
@pass_app
def status(
    app: App, entry_id: str, new_status: str, on: str, source: str | None, unsourced: bool, note: str | None
) -> None:
    from tracker.service.status import change_status

    with open_session(app, writes=True) as session:
        change = change_status(
            session, entry_id, new_status, on, source=source, unsourced=unsourced, note=note
        )
    still = "" if change.current == change.to_status else f"; a later change keeps it {change.current}"
    click.echo(
        f"{change.entry_id}: {change.from_status} -> {change.to_status} on {change.effective_on}{still}.",
        err=True,
    )
    for problem in change.problems:
        click.echo(f"Warning: {change.entry_id} {problem}; `tracker check` lists it", err=True)


@click.command("sources")
@click.argument("entry_id", metavar="ID")
@format_option
@pass_app
def sources(app: App, entry_id: str, fmt: str) -> None:
    """The sources of an entry: what each of its figures comes from."""
    from tracker.service.details import entry_sources

    with open_session(app) as session:
        rows = [(s.reference, s.publisher, s.published_on) for s in entry_sources(session, entry_id)]
    render(("source", "publisher", "published"), rows, fmt, blank="")


@click.command("check", short_help="Report likely problems in the data; exit 1 if any.")
@format_option
@pass_app
def check(app: App, fmt: str) -> None:
    """Report likely problems in the data, each with its entry and the reason.

    Looks for entries without a source, an online period that ends before the
    announcement, a status moved back to an earlier stage without a note (through
    paused, cancelled or decommissioned, compared with the stage before them), cancelled
    straight to operational without a note, a status change dated before the
    announcement, probable duplicates (same country, same operator or name, chip counts
    within 10%), a part with more chips than its programme (unless that count is a lower
    bound), and a part outside its programme's country or scope. Exits 1 when it finds
    any.
    """
    from tracker.service.checks import find_problems

    with open_session(app) as session:
        findings = find_problems(session)
    if not findings:
        click.echo("No problems found.", err=True)
        return
    render(("entry", "problem"), [(finding.entry_id, finding.problem) for finding in findings], fmt)
    click.echo(f"{len(findings)} problem{'s' if len(findings) != 1 else ''} found.", err=True)
    click.get_current_context().exit(1)


@click.command("update", short_help="Edit an entry's fields; every change is kept.")
@click.argument("entry_id", metavar="ID")
@click.option("--name", help="A new name.")
@click.option("--country", metavar="C", help="ISO code or English name.")
@click.option("--scope", metavar="REGION", help="A programme's region, instead of a country.")
@click.option("--parent", metavar="ID", help='The programme it is part of ("" detaches it).')
@click.option("--operator", help="Who runs it.")
@click.option("--city", help="Where the site is.")
@click.option(
    "--kind", metavar="KIND", help="factory, gigafactory, supercomputer, cloud-region or programme."
)
@click.option("--sponsor", metavar="SPONSOR", help="sovereign, public-private or private.")
@click.option("--confidence", metavar="CONFIDENCE", help="confirmed, reported or rumoured.")
@click.option("--announced", metavar="DATE", help="Day it was announced.")
@click.option("--online", metavar="PERIOD", help="When it comes online: 2025-12, Q4 2025, H2 2026, 2026.")
@click.option("--power-mw", metavar="X", help="Power capacity in megawatts.")
@click.option("--chips", metavar="N", help="Number of accelerators of the chip lot (or of --unit).")
@click.option(
    "--unit",
    metavar="UNIT",
    help="What --chips counts: gpu (the default), superchip, server or rack, as with `tracker add`.",
)
@click.option("--vendor", metavar="V", help="Chip vendor of the chip lot.")
@click.option("--model", metavar="M", help="Chip model of the chip lot.")
@click.option(
    "--qualifier",
    metavar="Q",
    help='How exact the lot\'s chips are ("" is exact): exact, approx, at-least or up-to; also ~, ≥, ≤.',
)
@click.option(
    "--lot", metavar="N", help="Which chip lot (needed when the entry has several; a new number adds one)."
)
@click.option("--source", "sources", multiple=True, metavar="URL", help="A source to add; repeatable.")
@click.option("--note", help="New notes.")
@pass_app
def update(app: App, entry_id: str, sources: tuple[str, ...], **fields: str | None) -> None:
    """Edit an entry's fields, chip lot and sources.

    Every change is kept in the entry's history with its old and new value, the time,
    and the first --source given (`tracker show ID`, `tracker changes`). An empty value
    ("") clears an optional field. Status changes go through `tracker status`.
    """
    from tracker.cli.entries import warn_outside
    from tracker.service.checks import outside_programme
    from tracker.service.updates import update_entry

    lot = {key: fields.pop(key) for key in ("chips", "unit", "vendor", "model", "qualifier", "lot")}
    values = {("notes" if key == "note" else key): value for key, value in fields.items()}
    with open_session(app, writes=True) as session:
        changes = update_entry(session, entry_id, values, sources, lot)
        outside = outside_programme(session, entry_id)
    for change in changes:
        if change.field == "sources":
            click.echo(f"{entry_id}: source added: {change.new}", err=True)
        else:
            click.echo(
                f"{entry_id}: {change.field}: {change.old or '(none)'} -> {change.new or '(none)'}", err=True
            )
    if outside and {"parent", "country", "scope"} & {change.field for change in changes}:
        warn_outside(entry_id, outside)
    if not changes:
        click.echo(f"{entry_id}: nothing to change.", err=True)


@click.command("changes", short_help="What changed since a day, with sources.")
@click.option("--since", required=True, metavar="DATE", help="The first day (UTC) to report.")
@format_option
@pass_app
def changes(app: App, since: str, fmt: str) -> None:
    """What changed since a day, oldest first, each with its source: entries added, fields
    edited (`tracker update`, or `tracker import --on-conflict update`: with the first
    source the file adds), status moves (`tracker status`, or an import) and entries
    removed (with what they were and the --note given)."""
    from tracker.service.history import changes_since

    with open_session(app) as session:
        rows = [
            (change.when, change.entry_id, change.what, change.old, change.new, change.source)
            for change in changes_since(session, since)
        ]
    render(("when", "entry", "change", "old", "new", "source"), rows, fmt, blank="")
