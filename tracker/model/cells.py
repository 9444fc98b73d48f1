"""Values written as text cells: numbers without trailing zeros, and CSV cells that
spreadsheets open safely: a cell a spreadsheet would run as a formula is made inert, and
reading it back restores it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros: 12.500 is 12.5, 120.000 is 120."""
    return format(value.normalize(), "f")


def cell_text(value: object) -> str:
    """A value as a CSV cell: raw numbers, ISO dates, periods as written, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTED_STARTS = (*FORMULA_STARTS, "'")  # a cell starting with the quote itself is quoted too


def neutralise(cell: str) -> str:
    """Make a cell inert for spreadsheets by a leading quote; :func:`restore` undoes it."""
    return "'" + cell if cell.startswith(QUOTED_STARTS) else cell


def restore(cell: str) -> str:
    """Undo :func:`neutralise`."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(QUOTED_STARTS) else cell
