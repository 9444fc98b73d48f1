"""What a report gives: a table of rows, the same for the Python API and every output format.

A :class:`Table` holds a report's columns and rows as values (the CSV's columns; its rows as
``--format json`` gives them), the total row that tables print last, the notes that say what
its figures are, and how a person sees it (:class:`PeopleView`: counts with their
qualifier, ``≥ 504,000``; figures with theirs).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas

QUALIFIER_MARKS = {"exact": "", "approx": "~ ", "at-least": "≥ ", "up-to": "≤ "}


class Count(int):
    """A chip count with its qualifier, which tables show before it: ``≥ 500,000``."""

    qualifier: str

    def __new__(cls, value: int, qualifier: str) -> Count:
        count = super().__new__(cls, value)
        count.qualifier = qualifier
        return count

    def __str__(self) -> str:
        return f"{QUALIFIER_MARKS[self.qualifier]}{int(self):,}"


class Net(int):
    """A change in a count, as tables show it: ``+1,000``, ``-300``, ``0``."""

    def __str__(self) -> str:
        return f"{int(self):+,}" if self else "0"


class Share(int):
    """A count with its share of a whole, as tables show it: ``4,000 (25%)``; a share
    that rounds to 0% but is not nothing is ``<1%``, one that rounds to 100% but is not all
    ``>99%``."""

    whole: int

    def __new__(cls, value: int, whole: int) -> Share:
        share = super().__new__(cls, value)
        share.whole = whole
        return share

    def __str__(self) -> str:
        if not self.whole:
            return f"{int(self):,}"
        percent = Decimal(100 * int(self)) / self.whole
        shown = percent.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        text = "<1" if shown == 0 and self else ">99" if shown == 100 and self != self.whole else f"{shown}"
        return f"{int(self):,} ({text}%)"


class Figure(Decimal):
    """A figure derived from the catalogue (H100-equivalents, megawatts), shown in tables
    with its qualifier before it and ``est.`` after it where part of it is an estimate."""

    qualifier: str
    places: int
    estimated: bool

    def __new__(cls, value: Decimal, qualifier: str, places: int = 0, estimated: bool = False) -> Figure:
        figure = super().__new__(cls, value)
        figure.qualifier, figure.places, figure.estimated = qualifier, places, estimated
        return figure

    def __str__(self) -> str:
        shown = Decimal(self).quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)
        text = f"{QUALIFIER_MARKS[self.qualifier]}{shown:,.{self.places}f}"
        return text + (" est." if self.estimated else "")


def raw_value(value: object) -> object:
    """A value as programs read it (JSON, the API's rows): numbers as numbers, dates and
    periods as ISO text."""
    if isinstance(value, (Count, Net, Share)):
        return int(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def display(value: object, blank: str = "") -> str:
    """A value as tables show it to people: counts and figures with their qualifier and
    thousands separators, ``yes``/``no``, ``blank`` for a missing value."""
    if value is None:
        return blank
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Count):
        return f"{QUALIFIER_MARKS[value.qualifier]}{value:,}"
    if isinstance(value, (Net, Share)):
        return str(value)
    if isinstance(value, Figure):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    return str(raw_value(value))


@dataclass(frozen=True)
class PeopleView:
    """A table as ``--format table`` and ``markdown`` show it: its columns, its rows as
    display values (:class:`Count`, :class:`Figure`), its total row, what a missing value
    shows as (for every column, or by column), and notes for people reading it."""

    columns: tuple[str, ...]
    rows: Sequence[Sequence[object]]
    total: Sequence[object] | None = None
    blank: str | Mapping[str, str] = ""
    notes: tuple[str, ...] = ()  # for people only, after the table's own notes


@dataclass(frozen=True)
class Table:
    """A report: ``columns`` (as CSV gives them, in order), ``values`` (each row's values in
    that order), the ``total_values`` of the row that tables print last (counted once), the
    ``notes`` that say what its figures are, and ``people``, how tables show it (the same
    columns and values when None).

    ``rows`` and ``total`` give them as ``--format json`` does: plain dicts of plain values.
    """

    columns: tuple[str, ...]
    values: Sequence[Sequence[object]]
    total_values: Sequence[object] | None = None
    notes: tuple[str, ...] = ()
    people: PeopleView | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as ``--format json`` gives them."""
        return [self._record(row) for row in self.values]

    @property
    def total(self) -> dict[str, Any] | None:
        """The total row (what tables print last, every chip counted once), as a row is given;
        None for a report without one."""
        return None if self.total_values is None else self._record(self.total_values)

    def _record(self, values: Sequence[object]) -> dict[str, Any]:
        return {column: raw_value(value) for column, value in zip(self.columns, values, strict=True)}

    def __len__(self) -> int:
        return len(self.values)

    def for_people(self) -> PeopleView:
        """How ``--format table`` shows it."""
        return self.people or PeopleView(self.columns, self.values)

    def to_dataframe(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame, in the table's columns (``pip install
        'sovereign-ai-tracker[pandas]'``)."""
        try:
            import pandas
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                "to_dataframe needs pandas: pip install 'sovereign-ai-tracker[pandas]'", name="pandas"
            ) from None
        return pandas.DataFrame(self.rows, columns=list(self.columns))
