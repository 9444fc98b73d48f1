"""The tracker's exceptions.

The model and service layers raise these; the CLI maps them, in one place, to a
one-line message and an exit code (2 for a bad argument, 1 for anything else).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar


class TrackerError(Exception):
    """Base class of every error the tracker reports to a user."""

    exit_code = 1


class FieldError(TrackerError):
    """A failure that concerns one field (an option, an argument, a column)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class InvalidValue(FieldError):
    """A value given for a field is not one the tracker accepts."""

    exit_code = 2


class FileProblem(FieldError):
    """A file named by a field cannot be written or read."""


class NotFound(TrackerError):
    """No record has the id that was asked for."""

    def __init__(self, what: str, key: str) -> None:
        self.what = what
        self.key = key
        super().__init__(f"no {what} with id {key!r}; `tracker list` shows the ids")


class Conflict(TrackerError):
    """The change would clash with a record that already exists.

    ``field`` names the value that clashes, when one does.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class SchemaError(TrackerError):
    """The database's schema is missing, outdated or newer than this tracker."""


class DatabaseUnavailable(TrackerError):
    """The database cannot be opened or written."""


class InvalidInput(InvalidValue):
    """Several fields of one record are invalid; each problem is kept."""

    def __init__(self, problems: list[InvalidValue]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.field, first.message)
        self.args = ("; ".join(str(problem) for problem in problems),)


class RowProblem(NamedTuple):
    """One problem of an imported file: where it is, which column, what is wrong."""

    line: int
    column: str
    message: str


class FileRejected(TrackerError):
    """A file to import holds problems; each is kept, and nothing of the file was written."""

    exit_code = 2

    def __init__(
        self,
        name: str,
        problems: list[RowProblem],
        hint: str = "",
        fatal: int = 0,
        outcome: str = "nothing was imported",
    ) -> None:
        self.name = name
        self.problems = problems
        self.fatal = fatal  # how many of the problems --skip-invalid could not leave out
        count = f"{len(problems):,} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{name}: {count}; {outcome}" + (f"; {hint}" if hint else ""))

    def lines(self) -> list[str]:
        """Every problem as ``FILE:LINE: COLUMN: message``."""
        return [f"{self.name}:{line}: {column}: {message}" for line, column, message in self.problems]


class DumpRejected(TrackerError):
    """A dump to restore that this tracker cannot read, or with a record the database cannot
    take; nothing of it was written. The message names the file and the line."""

    exit_code = 2


T = TypeVar("T")


class Problems:
    """Every problem of one input, gathered rather than stopping at the first, so that they
    can all be told at once; :meth:`check` raises them together as :class:`InvalidInput`."""

    def __init__(self) -> None:
        self.found: list[InvalidValue] = []

    def add(self, problem: InvalidValue) -> None:
        self.found.append(problem)

    def read(self, parse: Callable[[], T]) -> T | None:
        """``parse()``, or None with its problem kept."""
        try:
            return parse()
        except InvalidValue as problem:
            self.found.append(problem)
            return None

    def check(self) -> None:
        if self.found:
            raise InvalidInput(self.found)
