"""Token counts as sources report them (``16.4 trillion``, ``480T``, ``1.2e12``), shares of a
market, and a figure's rate per day.

Everything is computed with :class:`~decimal.Decimal`: ``16.4T`` is exactly
16,400,000,000,000 tokens, never a float's approximation of it.
"""

from __future__ import annotations

import calendar
import re
from decimal import ROUND_HALF_EVEN, Decimal, Inexact, InvalidOperation, localcontext

from tracker.errors import InvalidValue
from tracker.model.periods import Period, Precision
from tracker.model.vocabulary import TokenRate

MAX_TOKENS = 10**18  # within a BIGINT; a hundred thousand times the largest figure of 2025
MAX_TEXT = 100

# What a scale word multiplies by, as a power of ten. Matched after case folding; 万亿, 亿
# and 万 are how the (Chinese) source note writes them: 16.4万亿 is 16.4 trillion.
SCALE_WORDS = {
    **dict.fromkeys(("k", "thousand"), 3),
    **dict.fromkeys(("m", "mn", "million"), 6),
    **dict.fromkeys(("b", "bn", "billion"), 9),
    **dict.fromkeys(("t", "tn", "trillion"), 12),
    "万": 4,
    "亿": 8,
    "万亿": 12,
}
_SCALE = "|".join(sorted(map(re.escape, SCALE_WORDS), key=len, reverse=True))
_COUNT = re.compile(
    r"(?P<number>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
    r"(?:e(?P<exponent>\+?[0-9]{1,2}))?"
    rf"(?:\s*(?P<scale>{_SCALE}))?"
    r"(?:\s*tokens?)?",
    re.ASCII,
)
COUNT_FORMS = (
    "a whole number of tokens above 0, such as 16400000000000, 16,400,000,000,000, 1.64e13, "
    "16.4T or 16.4 trillion (also tn; B, bn, billion; M, mn, million; K, thousand)"
)


def parse_token_count(text: str, field: str) -> int:
    """A number of tokens: digits (thousands commas allowed), a decimal with an exponent
    (``1.2e12``) or a decimal with a scale word (``16.4T``, ``16.4 trillion``, ``5bn``), in any
    case; it must come to a whole number of tokens above 0."""
    cleaned = " ".join(str(text).split()).casefold()
    match = _COUNT.fullmatch(cleaned) if len(cleaned) <= MAX_TEXT else None
    if match is None or (match["exponent"] and match["scale"]):
        raise InvalidValue(field, f"{text!r} is not a token count; give {COUNT_FORMS}")
    power = int(match["exponent"] or 0) + SCALE_WORDS.get(match["scale"] or "", 0)
    try:
        with localcontext() as context:
            context.prec = 2 * MAX_TEXT  # every digit a text of MAX_TEXT characters can hold
            context.traps[Inexact] = True
            count = Decimal(match["number"].replace(",", "")).scaleb(power)
    except (Inexact, InvalidOperation):  # never, with that precision; refused if it were
        raise InvalidValue(field, f"{text!r} is not a token count; give {COUNT_FORMS}") from None
    if count != count.to_integral_value():
        raise InvalidValue(
            field, f"{text!r} is {count.normalize():,f} tokens, not a whole number; give {COUNT_FORMS}"
        )
    if not 0 < count <= MAX_TOKENS:
        size = "0" if count == 0 else f"more than {MAX_TOKENS:,}"
        raise InvalidValue(field, f"{text!r} is {size} tokens; give {COUNT_FORMS}")
    return int(count)


def parse_share(text: str, field: str = "share") -> Decimal:
    """A share in percent, ``46.4`` or ``46.4%``: above 0, at most 100, at most 3 decimals."""
    cleaned = str(text).strip().removesuffix("%").strip()
    value: Decimal | None = None
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", cleaned, re.ASCII):
        value = Decimal(cleaned)
    if value is None or not 0 < value <= 100 or value != value.quantize(Decimal("0.001")):
        raise InvalidValue(
            field,
            f"{text!r} is not a share; give a percentage above 0 and up to 100, with at most "
            "3 decimals, such as 46.4 or 46.4%",
        )
    return value


def days_per_month(period: Period) -> Decimal:
    """The average length of a month within ``period``, which a monthly figure is divided by:
    for a month or a day, the days of that calendar month (May: 31); for a quarter, a half or
    a year, the days of the period over its months (2025-Q2: 91 / 3)."""
    days, months = days_and_months(period)
    return Decimal(days) / Decimal(months)


def days_and_months(period: Period) -> tuple[int, int]:
    """The days and months a monthly figure is spread over: (31, 1) for May or a day of
    May; (91, 3) for 2025-Q2."""
    start = period.start
    if period.precision in (Precision.DAY, Precision.MONTH):
        return calendar.monthrange(start.year, start.month)[1], 1
    end = period.end
    return (end - start).days + 1, (end.year - start.year) * 12 + end.month - start.month + 1


def tokens_per_day(count: int, per: TokenRate, period: Period) -> int:
    """A figure of ``count`` tokens per day or per month as tokens per day: a monthly one is
    divided by :func:`days_per_month` of its period, rounded half-even to a whole token."""
    if per is TokenRate.DAY:
        return count
    days, months = days_and_months(period)
    with localcontext() as context:
        context.prec = 60  # count * months / days, exact to far below half a token
        per_day = Decimal(count * months) / Decimal(days)
        return int(per_day.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


_WORDS = ((12, "trillion"), (9, "billion"), (6, "million"))


def count_in_words(count: int) -> str:
    """A count as people write it: ``16.4 trillion``, ``480 trillion``; ``2,500`` below a million."""
    for power, word in _WORDS:
        if count >= 10**power:
            return f"{Decimal(count).scaleb(-power).normalize():,f} {word}"
    return f"{count:,}"


def growth_pct(current: int, previous: int) -> Decimal:
    """How much ``current`` grew over ``previous``, in percent, to one decimal (half-even):
    16.4 trillion after 12.7 trillion is 29.1."""
    return ((Decimal(current) / Decimal(previous) - 1) * 100).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
