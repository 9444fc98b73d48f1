"""Dates and date periods with their precision.

An announced date is a day. An online date is a *period*: a start date plus a
precision (day, month, quarter, half or year), so that "Q4 2025" stays a
quarter and is never turned into 2025-10-01.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import functools
import re
from dataclasses import dataclass

from tracker.errors import InvalidValue


class Precision(str, enum.Enum):
    """How precisely a period is known, from finest to coarsest."""

    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"

    def __str__(self) -> str:
        return self.value


_MONTHS_IN = {Precision.MONTH: 1, Precision.QUARTER: 3, Precision.HALF: 6, Precision.YEAR: 12}


@dataclass(frozen=True, order=True)
class Period:
    """A span of time named at a precision: ``2025-12-15``, ``2025-12``,
    ``2025-Q4``, ``2026-H2`` or ``2026``."""

    start: dt.date
    precision: Precision

    def __post_init__(self) -> None:
        object.__setattr__(self, "precision", Precision(self.precision))
        start, precision = self.start, self.precision
        aligned = precision is Precision.DAY or (
            start.day == 1 and (start.month - 1) % _MONTHS_IN[precision] == 0
        )
        if not aligned:
            raise ValueError(f"{start} is not the first day of a {precision}")

    @property
    def end(self) -> dt.date:
        """The last day of the period."""
        if self.precision is Precision.DAY:
            return self.start
        last_month = self.start.month + _MONTHS_IN[self.precision] - 1
        last_day = calendar.monthrange(self.start.year, last_month)[1]
        return dt.date(self.start.year, last_month, last_day)

    def __str__(self) -> str:
        year, month = self.start.year, self.start.month
        if self.precision is Precision.DAY:
            return self.start.isoformat()
        if self.precision is Precision.MONTH:
            return f"{year:04d}-{month:02d}"
        if self.precision is Precision.QUARTER:
            return f"{year:04d}-Q{(month - 1) // 3 + 1}"
        if self.precision is Precision.HALF:
            return f"{year:04d}-H{(month - 1) // 6 + 1}"
        return f"{year:04d}"


PERIOD_FORMS = (
    "a day (2025-12-15), month (2025-12, Dec 2025, 2025年5月), quarter (Q4 2025, 2025-Q4, "
    "2025年Q4), half (H2 2026, 2026-H2) or year (2026)"
)

# Each pattern is matched against the whole input after trimming and upper-casing.
_YEAR = r"(?P<year>\d{4})"
_QUARTER_PATTERNS = [
    re.compile(rf"^{_YEAR}\s*[-/ ]?\s*Q(?P<n>[1-4])$"),
    re.compile(rf"^Q(?P<n>[1-4])\s*[-/ ,']?\s*{_YEAR}$"),
    re.compile(rf"^{_YEAR}\s*年\s*(?:Q(?P<n>[1-4])|第\s*(?P<cn>[1-4一二三四])\s*季度?)$"),
]
_HALF_PATTERNS = [
    re.compile(rf"^{_YEAR}\s*[-/ ]?\s*H(?P<n>[12])$"),
    re.compile(rf"^H(?P<n>[12])\s*[-/ ,']?\s*{_YEAR}$"),
    re.compile(rf"^{_YEAR}\s*年\s*(?:H(?P<n>[12])|(?P<cn>[上下])半年)$"),
]
_YEAR_PATTERN = re.compile(rf"^{_YEAR}\s*年?$")
_YEAR_FIRST_PATTERN = re.compile(
    rf"^{_YEAR}(?P<sep>[-/.])(?P<month>\d{{1,2}})(?:(?P=sep)(?P<day>\d{{1,2}}))?$"
)
_CJK_DATE_PATTERN = re.compile(rf"^{_YEAR}\s*年\s*(?P<month>\d{{1,2}})\s*月(?:\s*(?P<day>\d{{1,2}})\s*日)?$")
# 03/04/2025 is 3 April in Paris and 4 March in New York: refuse to guess.
_AMBIGUOUS_NUMERIC = re.compile(r"^(?P<first>\d{1,2})[\s/.\-]+(?P<second>\d{1,2})[\s/.\-]+\d{2,4}$")
# A quarter or half that does not exist, such as Q5 2025 or 2026H3 (valid ones match first).
_OUT_OF_RANGE_PART = re.compile(r"^(?:\d{4}\s*[-/ ]?\s*)?(?P<kind>[QH])(?P<n>\d+)(?:\s*[-/ ,']?\s*\d{4})?$")
# Written-out dates: one month name, a year, and at most a day (15 Dec 2025, December 15, 2025,
# 15-Dec-2025, Sept. 2025). Anything else (a weekday, a time of day) is refused, not ignored.
_MONTH_NAME = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC)[A-Z]*\.?"
_DAY = r"\d{1,2}(?:ST|ND|RD|TH)?"
_SEP = r"[\s,\-]+"
_WRITTEN_OUT_PATTERN = re.compile(rf"^(?:{_DAY}{_SEP})?{_MONTH_NAME}(?:{_SEP}{_DAY})?{_SEP}\d{{4}}$")
_CJK_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "上": 1, "下": 2}


DAY_FORMS = "a day, such as 2025-06-11, 11 June 2025 or 2025年6月11日"


def parse_period(text: str, field: str = "online", forms: str = PERIOD_FORMS) -> Period:
    """Parse an online period in any accepted form, keeping its precision.

    Raises :class:`InvalidValue` naming ``field`` for anything else.
    """
    cleaned = " ".join(str(text).split()).upper()
    try:
        period = _parse_period(cleaned)
    except ValueError as error:
        raise InvalidValue(field, f"{error} in {text!r}; use {forms}") from None
    if period is None:
        raise InvalidValue(field, f"cannot read {text!r}; use {forms}")
    return period


def parse_day(text: str, field: str = "announced") -> dt.date:
    """Parse a date that must name a day, such as ``2025-06-11`` or ``11 Jun 2025``."""
    period = parse_period(text, field, DAY_FORMS)
    if period.precision is not Precision.DAY:
        raise InvalidValue(field, f"{text!r} is a {period.precision}; give {DAY_FORMS}")
    return period.start


@functools.lru_cache(maxsize=4096)  # files repeat a few periods many times
def _parse_period(text: str) -> Period | None:
    if not text:
        return None
    for pattern in _QUARTER_PATTERNS:
        if match := pattern.match(text):
            quarter = _ordinal(match)
            return Period(dt.date(int(match["year"]), 3 * quarter - 2, 1), Precision.QUARTER)
    for pattern in _HALF_PATTERNS:
        if match := pattern.match(text):
            half = _ordinal(match)
            return Period(dt.date(int(match["year"]), 6 * half - 5, 1), Precision.HALF)
    if match := _YEAR_PATTERN.match(text):
        return Period(dt.date(_check_year(int(match["year"])), 1, 1), Precision.YEAR)
    if match := _YEAR_FIRST_PATTERN.match(text):
        year, month = int(match["year"]), int(match["month"])
        if match["day"] is None:
            return _month(year, month)
        return Period(dt.date(_check_year(year), month, int(match["day"])), Precision.DAY)
    if match := _CJK_DATE_PATTERN.match(text):
        year, month = int(match["year"]), int(match["month"])
        if match["day"] is None:
            return _month(year, month)
        return Period(dt.date(_check_year(year), month, int(match["day"])), Precision.DAY)
    if match := _AMBIGUOUS_NUMERIC.match(text):
        first, second = int(match["first"]), int(match["second"])
        if (first > 12 and second > 12) or not (1 <= first <= 31 and 1 <= second <= 31):
            raise ValueError("there is no such date")
        raise ValueError("day and month order is ambiguous in an all-number date")
    if re.fullmatch(r"[QH]\d|\d[QH]", text):
        raise ValueError("a year is needed")
    if match := _OUT_OF_RANGE_PART.match(text):
        part = "quarter" if match["kind"] == "Q" else "half"
        raise ValueError(f"{part} {match['n']} does not exist")
    if _WRITTEN_OUT_PATTERN.match(text):
        return _parse_written_out(text)
    return None


def _ordinal(match: re.Match[str]) -> int:
    if match["n"]:
        return int(match["n"])
    cn = match["cn"]
    return _CJK_NUMBERS[cn] if cn in _CJK_NUMBERS else int(cn)


def _month(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist")
    return Period(dt.date(_check_year(year), month, 1), Precision.MONTH)


def _check_year(year: int) -> int:
    if not 1900 <= year <= 2200:
        raise ValueError(f"year {year} is out of range 1900-2200")
    return year


def _parse_written_out(text: str) -> Period | None:
    """Dates with a month name, such as ``15 Dec 2025`` or ``December 2025``.

    dateutil knows the month names; it fills the fields a text leaves out from a
    default, so parsing with two different defaults shows which fields were given.
    """
    from dateutil import parser as dateutil_parser  # here: reports seldom read a written-out date

    try:
        first = dateutil_parser.parse(text, default=dt.datetime(2000, 1, 1))
        second = dateutil_parser.parse(text, default=dt.datetime(2004, 2, 2))
    except (dateutil_parser.ParserError, OverflowError) as error:
        if "must be in" in str(error) or "out of range" in str(error):
            raise ValueError(str(error).split(":")[0]) from None
        return None
    year = _check_year(first.year)
    if first.day != second.day:
        return Period(dt.date(year, first.month, 1), Precision.MONTH)
    return Period(dt.date(year, first.month, first.day), Precision.DAY)


def period_from_parts(start: dt.date | None, precision: str | None) -> Period | None:
    """Rebuild a stored period from its two columns (both empty means none)."""
    if start is None or precision is None:
        return None
    return Period(start, Precision(precision))


def past_day(text: str, field: str = "announced") -> dt.date:
    """A day that has passed, such as an announcement's: not after today (UTC, with a day's
    grace for time zones)."""
    day = parse_day(text, field)
    latest = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    if day > latest:
        if field == "announced":
            raise InvalidValue(field, f"{day} is in the future; an announcement has a date that has passed")
        raise InvalidValue(field, f"{day} is in the future; give a day that has passed")
    return day
