"""Reading CSV files to import, strictly and within bounds: each record with the line it
starts on, a record that cannot be read told with its line, memory flat whatever the file."""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Iterator, Sequence
from typing import TextIO

from tracker.errors import FileRejected, RowProblem
from tracker.service.formats.base import Progress

MAX_LINE_CHARACTERS = 1_000_000  # a line of a file to import, so that memory stays flat
MAX_CELL_CHARACTERS = 131_072  # a cell (the csv module's own limit), over several lines too
# What a byte that is not UTF-8 becomes when a file is opened with errors="surrogateescape".
_UNDECODED = re.compile("[\udc80-\udcff]")

Record = tuple[int, list[str]]  # a record of a CSV file: the line it starts on, its cells


def csv_records(handle: TextIO, name: str, progress: Progress | None) -> Iterator[Record | RowProblem]:
    """The records of a CSV file with the line each starts on, blank ones skipped; a record
    holding bytes that are not UTF-8 is a problem instead (``handle`` opened with
    ``errors="surrogateescape"``), so that each is told with its line.

    Read strictly: a quoted cell never closed would otherwise swallow the rest of the
    file into one cell; it rejects the file, naming the line where the record starts, as
    does a line or a cell too long to be one (:data:`MAX_LINE_CHARACTERS`,
    :data:`MAX_CELL_CHARACTERS`).
    """
    undecoded: list[int] = []  # lines holding bytes that are not UTF-8, in order
    reader = csv.reader(_lines(handle, name, progress, undecoded), strict=True)
    line = 1
    header: list[str] = []
    field_size_limit = csv.field_size_limit
    try:
        while True:
            # Each record read with the csv module's cell limit at this file's own: the limit
            # is the whole process's, and other libraries raise it (frictionless does). It is
            # given back after each record, so that it is never changed while the caller works.
            given = field_size_limit(MAX_CELL_CHARACTERS)
            try:
                cells = next(reader)
            except StopIteration:
                break
            finally:
                field_size_limit(given)
            if undecoded and undecoded[0] <= reader.line_num:
                yield _undecoded_problem(undecoded[0], cells, header)
                del undecoded[: bisect.bisect_right(undecoded, reader.line_num)]
            # A cell that is not blank (the first, most often: no need to join them all).
            elif (cells and cells[0].strip()) or "".join(cells).strip():
                header = header or cells
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            problem = f"holds a cell longer than {MAX_CELL_CHARACTERS:,} characters, the most a cell may hold"
        else:
            hint = "; a quoted cell may never be closed" if "end of data" in str(error) else ""
            problem = f"is not valid CSV: {error}{hint}"
        raise FileRejected(name, [RowProblem(line, "row", problem)], fatal=1) from None


def _lines(handle: TextIO, name: str, progress: Progress | None, undecoded: list[int]) -> Iterator[str]:
    """The lines of a file, each at most :data:`MAX_LINE_CHARACTERS` long (a longer one
    rejects the file before it is read whole), telling ``progress`` how much was read and
    ``undecoded`` which lines hold bytes that are not UTF-8."""
    readline = handle.readline
    number = 0
    while text := readline(MAX_LINE_CHARACTERS + 1):
        number += 1
        if len(text) > MAX_LINE_CHARACTERS:
            raise FileRejected(
                name,
                [RowProblem(number, "row", f"is longer than {MAX_LINE_CHARACTERS:,} characters, the most "
                            "a line may hold")],
                fatal=1,  # the file cannot be read on: --skip-invalid cannot leave it out
            )  # fmt: skip
        if progress is not None:
            progress(len(text))
        if not text.isascii() and _UNDECODED.search(text):
            undecoded.append(number)
        yield text


def _undecoded_problem(line: int, cells: Sequence[str], header: Sequence[str]) -> RowProblem:
    """The problem of a record holding bytes that are not UTF-8, naming its column."""
    place, cell = next(
        ((place, cell) for place, cell in enumerate(cells) if _UNDECODED.search(cell)), (0, "")
    )
    column = "header" if not header else (header[place].strip().lstrip("\ufeff") or "row")
    found = _UNDECODED.search(cell)
    byte = f" 0x{ord(found.group()) - 0xDC00:02X}" if found else ""
    return RowProblem(
        line, column, f"holds the byte{byte}, which is not UTF-8 text; save the file as UTF-8 CSV"
    )


def cell_count_problem(line: int, cells: Sequence[str], columns: Sequence[str]) -> RowProblem:
    count = f"{len(cells)} cell{'s' if len(cells) != 1 else ''}"
    return RowProblem(line, "row", f"has {count}; the header has {len(columns)}")
