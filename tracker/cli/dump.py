"""tracker dump and tracker restore: everything recorded, history included, moved between
databases."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click

from tracker.cli.app import App, api, pass_app
from tracker.errors import InvalidValue

STDIN_NAME = "<stdin>"


@click.command()
@click.option(
    "--output",
    metavar="FILE|-",
    help="Write the dump to FILE, whole or not at all, and print its path; - (the default) is "
    "standard output.",
)
@pass_app
def dump(app: App, output: str | None) -> None:
    """Write everything the database holds, history included, as a dump.

    Entries and their chip lots, sources, status changes, edits, removals, token
    figures, the chip catalogue as extended and edited, and the markers of the seeds
    loaded: one JSON record a line, UTF-8, sorted, with a format version
    (docs/dump.md). The same database always gives the same bytes. `tracker
    restore` loads it into an empty database, SQLite or PostgreSQL.
    """
    from tracker.service.files import names_a_stream

    if output is not None and not output.strip():
        raise click.BadParameter("give a file name, or - for standard output", param_hint="'--output'")
    with api(app) as tracker:
        if output is None or output == "-":
            stream = sys.stdout.buffer
            tracker.dump(stream)
            stream.flush()  # here, so that a reader gone away is noticed while the command runs
            return
        tracker.dump(output)
    if not names_a_stream(Path(output)):
        click.echo(output)


@click.command()
@click.argument("file", metavar="FILE")
@pass_app
def restore(app: App, file: str) -> None:
    """Load a dump (FILE, or - for standard input) into an empty database.

    Empty means without entries, token figures or history: a new database (the schema
    is created) or one made by `tracker init --no-seed`; any other is refused. All or
    nothing, in one transaction: a line that is not a valid record is reported as
    FILE:LINE: message, and nothing is written. Ids of the history are kept, so
    `tracker changes` lists it in the same order. Prints the records restored.
    """
    from tracker.service.dump import counted_records

    with _opened(file) as (handle, name), api(app) as tracker:
        counts = tracker.restore(handle, name=name)
    click.echo(", ".join(counted_records(counts)) + " restored")


@contextlib.contextmanager
def _opened(file: str) -> Iterator[tuple[IO[bytes], str]]:
    """The file as bytes (restore decodes each line itself, to name a line that is not
    UTF-8), and its name for messages."""
    if file == "-":
        yield sys.stdin.buffer, STDIN_NAME
        return
    if not file.strip():
        raise InvalidValue("file", "is empty; give a dump file, or - for standard input")
    from tracker.service.files import open_to_read

    with open_to_read(file, "a dump file") as handle:
        yield handle, file
