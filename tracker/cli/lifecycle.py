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
    from tracker.service.lifecycle import change_status

    with open_session(app, writes=True) as session:
        change = change_status(
            session, entry_id, new_status, on, source=source, unsourced=unsourced, note=note
        )
    still = "" if change.current == change.to_status else f"; a later change keeps it {change.current}"
    click.echo(
        f"{change.entry_id}: {change.from_status} -> {change.to_status} on {change.effective_on}{still}.",
        err=True,
    )


@click.command("sources")
@click.argument("entry_id", metavar="ID")
@format_option
@pass_app
def sources(app: App, entry_id: str, fmt: str) -> None:
    """The sources of an entry: what each of its figures comes from."""
    from tracker.service.lifecycle import entry_sources

    with open_session(app) as session:
        rows = [(s.reference, s.publisher, s.published_on) for s in entry_sources(session, entry_id)]
    render(("source", "publisher", "published"), rows, fmt, blank="")


@click.command("check", short_help="Report likely problems in the data; exit 1 if any.")
@format_option
@pass_app
def check(app: App, fmt: str) -> None:
    """Report likely problems in the data, each with its entry and the reason.

    Looks for entries without a source, an online period that ends before the
    announcement, a status moved back (towards announced) without a note, probable
    duplicates (same country, same operator or name, chip counts within 10%), and a
    child entry with more chips than its programme. Exits 1 when it finds any.
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
