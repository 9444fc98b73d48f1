"""tracker import: entries from the export format or from Epoch AI's GPU clusters CSV."""

from __future__ import annotations

import collections
import contextlib
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, TextIO

import click

from tracker.cli.app import App, api, pass_app
from tracker.errors import FileRejected, InvalidValue

if TYPE_CHECKING:
    from tracker.service.formats.base import Progress

FORMATS = ("tracker", "epoch")
STDIN_NAME = "<stdin>"
PROGRESS_FROM_BYTES = 1_000_000  # smaller files go in too fast for a progress bar to help


@click.command("import", short_help="Add or update entries from a CSV file.")
@click.argument("file", metavar="FILE")
@click.option(
    "--from",
    "file_format",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="tracker",
    show_default=True,
    help="tracker: the export format. epoch: Epoch AI's GPU clusters CSV (CC BY 4.0).",
)
@click.option(
    "--on-conflict",
    type=click.Choice(("update", "skip"), case_sensitive=False),
    help="An id stored with other values: update puts the file's values in place of the stored "
    "ones (columns the file lacks keep theirs), skip keeps the stored entry and counts it as "
    "skipped. Without this option such a file is refused.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file and list what would change (as `tracker diff` lists it), then count it; "
    "write nothing.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Leave out rows with problems (listed on standard error) and import the rest, "
    "with the parts of a programme left out; the exit code is then 0.",
)
@click.option(
    "--prune",
    is_flag=True,
    help="With --from epoch: remove the entries an earlier Epoch import added that this file no "
    "longer gives (or now leaves out), so that they are not counted beside the new ones.",
)
@pass_app
def import_(
    app: App,
    file: str,
    file_format: str,
    on_conflict: str | None,
    dry_run: bool,
    skip_invalid: bool,
    prune: bool,
) -> None:
    """Add entries from a CSV file (- for standard input), in one transaction.

    The tracker format is what `tracker export` writes, columns in any order; the name
    and country columns are required (a programme with a scope leaves its country
    empty). Every row is checked first: each problem is reported as
    FILE:LINE: COLUMN: message, and then nothing is written. An entry identical to the
    stored one is unchanged. Prints: N added, N updated, N unchanged (entries).
    """
    from tracker.api import stale_entries

    if prune and file_format.lower() != "epoch":
        raise click.UsageError("--prune goes with --from epoch")
    name = STDIN_NAME if file == "-" else file
    with _opened(file) as (handle, size), _progress(size) as progress, api(app) as tracker:
        try:
            result = tracker.import_file(
                handle,
                file_format=file_format,
                on_conflict=on_conflict,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                prune=prune,
                name=name,
                progress=progress,
            )
        except FileRejected as error:
            if not skip_invalid and sum(line > 1 for line, _, _ in error.problems) > error.fatal:
                raise FileRejected(name, error.problems, "--skip-invalid imports the other rows") from None
            raise
        for line, column, message in result.rejected:
            click.echo(f"{name}:{line}: {column}: {message}", err=True)
        if result.rejected:
            reasons = collections.Counter(column for _, column, _ in result.rejected)
            listing = ", ".join(f"{count} {column}" for column, count in reasons.most_common())
            entries = f"{result.rejected_entries} entr{'y' if result.rejected_entries == 1 else 'ies'}"
            click.echo(f"Left out {entries} (--skip-invalid); their problems by column: {listing}.", err=True)
        if result.stale and prune:
            done = "would be removed" if dry_run else "removed"
            before, _, listed = stale_entries(result.stale).partition(": ")
            click.echo(f"{before} {done} (--prune): {listed}", err=True)
    if result.changes is not None:  # a dry run: what it would change, then the counts
        from tracker.api import DiffReport
        from tracker.cli.diff import show_report

        show_report(DiffReport.of(result.changes), "table")
        click.echo()
    counts = f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged"
    if on_conflict and on_conflict.lower() == "skip":
        counts += f", {result.skipped} skipped"
    if prune:
        counts += f", {len(result.stale)} removed"
    click.echo(counts)
    if dry_run:
        click.echo("Dry run: nothing was written.", err=True)


@contextlib.contextmanager
def _opened(file: str) -> Iterator[tuple[TextIO, int | None]]:
    """The file as text that can be read again (standard input is copied to a temporary file
    first), with its size when known.

    Decoded as UTF-8 (a leading byte order mark ignored), each byte that is not UTF-8 kept
    as a stand-in character, so that the reader can tell the line it is on.
    """
    if file == "-":
        with tempfile.TemporaryFile() as copy:
            shutil.copyfileobj(sys.stdin.buffer, copy)
            copy.seek(0)
            with _text(copy) as handle:
                yield handle, os.fstat(copy.fileno()).st_size
        return
    if not file.strip():
        raise InvalidValue("file", "is empty; give a CSV file, or - for standard input")
    from tracker.service.files import open_to_read

    with open_to_read(file, "a CSV file") as binary, _text(binary) as handle:
        yield handle, os.fstat(binary.fileno()).st_size


@contextlib.contextmanager
def _text(binary: IO[bytes]) -> Iterator[TextIO]:
    wrapper = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()  # the binary file is closed by its owner


@contextlib.contextmanager
def _progress(size: int | None) -> Iterator[Progress | None]:
    """A progress bar on standard error, for a large file when a person is watching."""
    if size is None or size < PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=size, label="Reading", file=sys.stderr) as bar:
        yield bar.update
