"""``tracker publish``: the data for people who will never install the tracker."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.app import App, api, pass_app
from tracker.cli.options import entry_filter_options


@click.command(short_help="Publish CSVs, a data package, a SQLite snapshot and a web page.")
@click.argument("folder", metavar="DIR")
@entry_filter_options
@click.option("--title", metavar="TEXT", help="The page's and the package's title.")
@click.option(
    "--dated",
    is_flag=True,
    help="Publish into DIR/YYYY-MM-DD (today, UTC) and point the link DIR/latest at it, "
    "replaced in one step: for cron.",
)
@pass_app
def publish(app: App, folder: str, filters: dict[str, Any], title: str | None, dated: bool) -> None:
    """Publish into DIR: every table as CSV with a Frictionless datapackage.json
    (licence CC BY 4.0, sources), tracker.sqlite (a read-only snapshot whose views
    counted_lots, summary_by_country, summary_by_vendor, summary_by_region and
    timeline_by_quarter give the tracker's totals) with Datasette's metadata.json,
    and index.html, one page that needs no network.

    DIR is new, or an earlier publication, replaced whole: the folder is written
    beside it and renamed into place, never half written. Filters choose whole
    entries (place, operator, sponsor, confidence, announcement day); a part whose
    programme is left out is published on its own. Prints the folder.
    """
    if not folder.strip():
        raise click.BadParameter("give a folder", param_hint="'DIR'")
    with api(app) as tracker:
        published = tracker.publish(folder, title=title, dated=dated, **filters)
    click.echo(str(published.folder))
