"""What every file format's reader gives the importer: entries read from a file, each with
the line it starts on, or the problems that kept it from being read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TextIO

from tracker.errors import RowProblem
from tracker.model.fields import EXPORT_COLUMNS
from tracker.service.catalogue import Catalogue
from tracker.service.reading import EntryInput

Progress = Callable[[int], None]  # told how many more characters of the file were read


@dataclass(frozen=True)
class ParsedEntry:
    """One entry read from a file, or the problems that kept it from being read."""

    line: int  # where the entry's first row starts
    entry: EntryInput | None
    problems: tuple[RowProblem, ...] = ()
    # The columns the file speaks for: a stored entry keeps its values of the others.
    columns: frozenset[str] = frozenset(EXPORT_COLUMNS)
    adds_sources: bool = False  # the file's sources are added to the stored ones, not put in their place


class Reader(Protocol):
    """Reads entries from a file of one format (the export format, Epoch AI's CSV...)."""

    def __call__(
        self,
        handle: TextIO,
        catalogue: Catalogue,
        *,
        name: str,
        progress: Progress | None = None,
        gather: bool = False,
    ) -> Iterator[ParsedEntry]: ...
