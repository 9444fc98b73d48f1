"""The ``tracker`` command line: parse, call the service layer, render, report errors.

Command modules import the service layer (and with it SQLAlchemy) only when a
command runs, so ``tracker --help`` stays fast.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from tracker import __version__
from tracker.cli.app import App, TrackerGroup
from tracker.cli.chart import chart
from tracker.cli.entries import entry_add, entry_list, entry_remove, entry_show
from tracker.cli.imports import import_
from tracker.cli.lifecycle import changes, check, sources, status, update
from tracker.cli.reference import chips, regions
from tracker.cli.reports import export, summary, timeline
from tracker.cli.setup import init
from tracker.cli.tokens import tokens
from tracker.errors import InvalidValue


@click.group(
    cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option(
    "--db",
    "db_url",
    envvar="TRACKER_DATABASE_URL",
    metavar="URL",
    help="Database: an SQLite file path, or any SQLAlchemy URL such as "
    "postgresql://user@host/dbname. Default: $TRACKER_DATABASE_URL, else tracker.db "
    "in the user data folder ($TRACKER_DATA_DIR moves it), created and seeded on first use.",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of a failure.")
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, debug: bool) -> None:
    """Track AI accelerators announced, planned and online, by country and vendor, with sources."""
    app = ctx.ensure_object(App)
    app.db_from_environment = ctx.get_parameter_source("db_url") is ParameterSource.ENVIRONMENT
    if db_url is not None and not db_url.strip():
        raise InvalidValue("db", "is empty; give a database URL or an SQLite file path")
    app.db_url = db_url
    app.debug = debug


for command in (
    init, entry_add, entry_list, entry_show, entry_remove, update, status, sources, summary, timeline,
    export, import_, changes, check, regions, chips, tokens, chart,
):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    """The ``tracker`` console script."""
    cli(prog_name="tracker")
