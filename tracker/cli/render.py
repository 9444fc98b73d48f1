"""One renderer for every read command: table, markdown, CSV and JSON.

Tables and markdown are for people (thousands separators, a total row); CSV and
JSON are for programs (raw values, stable keys, data rows only) and are streamed.
"""

from __future__ import annotations

import csv
import html
import json
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

import click

from tracker.model.cells import cell_text, neutralise
from tracker.service.tables import Table, display, raw_value

FORMATS = ("table", "csv", "json", "markdown")
_TABULATE_FORMATS = {"table": "simple", "markdown": "github"}
MAX_TEXT_WIDTH = 60  # wider text wraps in tables


def show_table(table: Table, fmt: str) -> None:
    """Write a report in ``fmt``: its rows for programs (CSV, JSON), or as people see them
    (table, markdown: :meth:`~tracker.service.tables.Table.for_people`, its total row
    last); then, on standard error, its notes (for people, theirs too)."""
    if fmt in ("csv", "json"):
        render(table.columns, table.values, fmt)
        notes = table.notes
    else:
        people = table.for_people()
        render(people.columns, people.rows, fmt, total=people.total, blank=people.blank)
        notes = (*table.notes, *people.notes)
    for note in notes:
        click.echo(note, err=True)


def render(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    fmt: str,
    *,
    total: Sequence[object] | None = None,
    blank: str | Mapping[str, str] = "",
    out: IO[str] | None = None,
) -> None:
    """Write rows in ``fmt``; ``total`` is a last row for people, left out of CSV and JSON.

    ``blank`` is what a table shows for a missing value, for all columns or by column.
    """
    out = out or sys.stdout
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(_csv_cell(value) for value in row)
    elif fmt == "json":
        _write_json(columns, rows, out)
    else:
        _write_table(columns, rows, fmt, total, blank, out)


def _csv_cell(value: object) -> str:
    """A CSV cell: text made inert for spreadsheets (a leading ``=``, ``-``...); numbers as
    they are, so that -92.3 stays a number."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return cell_text(value)
    return neutralise(cell_text(value))


def _write_json(columns: Sequence[str], rows: Iterable[Sequence[object]], out: IO[str]) -> None:
    out.write("[")
    separator = "\n"
    for row in rows:
        record = {column: raw_value(value) for column, value in zip(columns, row, strict=False)}
        out.write(separator + "  " + json.dumps(record, ensure_ascii=False))
        separator = ",\n"
    out.write("\n]\n" if separator == ",\n" else "]\n")


def _write_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    fmt: str,
    total: Sequence[object] | None,
    blank: str | Mapping[str, str],
    out: IO[str],
) -> None:
    from tabulate import SEPARATING_LINE, tabulate

    materialised = [list(row) for row in rows]
    if not materialised:
        click.echo("(no matching rows)", err=True)
        return
    numeric = [
        all(isinstance(row[i], (int, Decimal)) or row[i] is None for row in materialised)
        and any(row[i] is not None for row in materialised)
        for i in range(len(columns))
    ]
    blanks = [blank if isinstance(blank, str) else blank.get(column, "") for column in columns]
    # A table's long text wraps onto lines of its own; a markdown cell must stay on its line
    # and hold nothing that markdown or HTML would read (a reader's renderer wraps it).
    shown = _markdown_cell if fmt == "markdown" else _wrapped
    body: list[Any] = [
        [
            cell if is_number else shown(cell)
            for cell, is_number in zip(
                (display(value, empty) for value, empty in zip(row, blanks, strict=True)),
                numeric,
                strict=True,
            )
        ]
        for row in materialised
    ]
    if total is not None:
        if fmt == "table":
            body.append(SEPARATING_LINE)
        body.append([shown(display(value, "")) for value in total])
    text = tabulate(
        body,
        headers=[shown(column) for column in columns],
        tablefmt=_TABULATE_FORMATS[fmt],
        disable_numparse=True,
        colalign=["right" if is_number else "left" for is_number in numeric],
    )
    out.write(text + "\n")


def _wrapped(text: str) -> str:
    """Long text on several lines, broken between words only: an id such as
    ``europe-ai-factories-plan`` is never cut at a hyphen."""
    if len(text) <= MAX_TEXT_WIDTH:
        return text
    return "\n".join(textwrap.wrap(text, MAX_TEXT_WIDTH, break_on_hyphens=False, break_long_words=False))


def _markdown_cell(text: str) -> str:
    """Text as a markdown table cell shows it literally: ``|`` (and the backslash that could
    undo its escape) backslash-escaped, ``<``, ``>`` and ``&`` as HTML entities, a line break
    as ``<br>``."""
    escaped = html.escape(text.replace("\\", "\\\\").replace("|", "\\|"), quote=False)
    return escaped.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")
