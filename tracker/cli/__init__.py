"""The ``tracker`` command line: parse, call the service layer, render, report errors.

Command modules import the service layer (and with it SQLAlchemy) only when a
command runs, so ``tracker --help`` stays fast.
"""

from __future__ import annotations

import gc
import importlib

import click
from click.core import ParameterSource

from tracker import __version__
from tracker.cli.app import App, TrackerGroup
from tracker.errors import InvalidValue

# Every command: the module defining it (in tracker.cli), its name there, and its short help
# as `tracker --help` lists it (a test checks that it is the command's own). A command's
# module is imported only when it runs or its help is asked for.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "add": ("entries", "entry_add", "Add an announcement, with its chips, and print its id."),
    "changes": ("lifecycle", "changes", "What changed since a day, with sources."),
    "chart": ("chart", "chart", "Draw the summary or the timeline as a chart."),
    "check": ("lifecycle", "check", "Report likely problems in the data; exit 1 if any."),
    "diff": ("diff", "diff", "What changed between two exports, dumps or Epoch releases."),
    "dump": ("dump", "dump", "Write everything the database holds, history included, as a dump."),
    "chips": ("reference", "chips", "List or extend the chip catalogue."),
    "export": ("reports", "export", "Write every chip lot as CSV."),
    "import": ("imports", "import_", "Add or update entries from a CSV file."),
    "init": ("setup", "init", "Create or upgrade the database schema and load the bundled seeds."),
    "list": ("entries", "entry_list", "List entries and their chip counts."),
    "operators": ("operators", "operators", "List, add or change operators."),
    "publish": ("publish", "publish", "Publish CSVs, a data package, a SQLite snapshot and a web page."),
    "regions": ("reference", "regions", "List the regions, or the countries of one REGION."),
    "remove": ("entries", "entry_remove", "Remove an entry with its chip lots and history."),
    "restore": ("dump", "restore", "Load a dump (FILE, or - for standard input) into an empty database."),
    "show": ("entries", "entry_show", "Show one entry in full."),
    "slips": ("reports", "slips", "Entries whose online period moved later, or passed; by how long."),
    "sources": ("lifecycle", "sources", "The sources of an entry, or every source, with their grades."),
    "sovereignty": (
        "reports",
        "sovereignty",
        "Chips by host country, by their operator's and their vendor's nationality.",
    ),
    "status": ("lifecycle", "status", "Record a status change, with its date and source."),
    "summary": ("reports", "summary", "Planned accelerators, grouped, most chips first."),
    "timeline": (
        "reports",
        "timeline",
        "Accelerators coming online per quarter or year, counted as the summary counts them.",
    ),
    "tokens": ("tokens", "tokens", "Record and list tokens served per day, by provider."),
    "update": ("lifecycle", "update", "Edit an entry's fields; every change is kept."),
    "verify": ("lifecycle", "verify", "Record that an entry was checked on a day."),
}


class _Commands(TrackerGroup):
    """The top-level group, importing a command's module only when the command is used, so
    that `tracker --help` loads none of them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"tracker.cli.{module}"), name)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as error:  # suggest the closest, as click does
            raise click.exceptions.NoSuchCommand(
                error.command_name, possibilities=COMMANDS, ctx=ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        # Shortened as click shortens a command's own help, without importing the command.
        rows = [
            (name, click.Command(name, help=short).get_short_help_str(limit))
            for name, (_, _, short) in sorted(COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
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


# Allocations between two collections of young objects (Python's default: 700). A command
# lives a few seconds and keeps most of what it allocates (SQLAlchemy's modules, a summary's
# programmes), so that at the default the collector scans them over and over for cycles,
# which took a tenth of a second of a large summary. Few of our objects form cycles, and
# those the next collection frees.
GC_THRESHOLD = 100_000


def main() -> None:
    """The ``tracker`` console script."""
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    cli(prog_name="tracker")
