"""Values as a person gives them to the API, read as the service takes them: texts, choices,
an entry's options by field, files."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from tracker.errors import InvalidValue
from tracker.model.fields import ENTRY_FIELDS, Stored
from tracker.model.tables import CHIP_FIGURES

# What `add` reads of a chip lot beside the entry's fields; `unit` says what `chips` counts.
LOT_OPTIONS = ("chips", "vendor", "model", "qualifier", "unit")
FIGURES = CHIP_FIGURES
Given = str | int | float | dt.date | Sequence[str] | None


def stale_entries(stale: Sequence[str]) -> str:
    """Entries of an earlier Epoch import, in words: ``3 entries of an earlier Epoch import: a, b, c``."""
    shown = ", ".join(stale[:10]) + (f" and {len(stale) - 10} more" if len(stale) > 10 else "")
    return f"{len(stale)} entr{'ies' if len(stale) != 1 else 'y'} of an earlier Epoch import: {shown}"


def as_text(value: object) -> str | None:
    """A value as the text a person would write: ``2025-06-11`` for a day (a datetime's day
    too: the tracker records days), ``4000`` for 4000."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def as_texts(value: object) -> list[str]:
    """One value or several, as a list of texts (as a repeatable option gives them)."""
    if value is None:
        return []
    if isinstance(value, (str, int, float, dt.date)):
        return [str(as_text(value))]
    return [str(as_text(item)) for item in value]  # type: ignore[attr-defined]


def choice_of(choices: Any, value: str, field: str) -> Any:
    try:
        return choices(value.lower())
    except ValueError:
        accepted = ", ".join(choice.value for choice in choices)
        raise InvalidValue(field, f"unknown value {value!r}; use one of: {accepted}") from None


OPTION_OF_FIELD = {field.flag.lstrip("-").replace("-", "_"): field for field in ENTRY_FIELDS if field.flag}


def entry_fields(
    options: dict[str, Given], *, lot_options: Sequence[str], updating: bool = False
) -> dict[str, Any]:
    """An entry's options (named as the CLI's, snake_case) as the service reads them: by field
    name, as text (``sources`` a list); a keyword that is none is a TypeError, as Python's own."""
    raw: dict[str, Any] = {}
    for option, value in options.items():
        if value is None:
            continue
        field = None if option in lot_options else OPTION_OF_FIELD.get(option)  # a lot's own first
        if field is None and option not in lot_options:
            accepted = sorted({*OPTION_OF_FIELD, *lot_options} - ({"name"} if not updating else set()))
            raise TypeError(f"unknown option {option!r}; options: {', '.join(accepted)}")
        if field is not None and updating and not field.updatable and field.stored is not Stored.LIST:
            raise InvalidValue(field.name, "cannot be changed with update")
        key = field.name if field else option
        # A list, or a repeated option (whose repeats the service refuses): its texts.
        if (field is not None and field.stored is Stored.LIST) or isinstance(value, (list, tuple)):
            raw[key] = as_texts(value)
        else:
            raw[key] = as_text(value)
    return raw


def figures_of(figures: dict[str, str | int | float | None]) -> dict[str, str | None]:
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise TypeError(f"unknown figure {sorted(unknown)[0]!r}; figures: {', '.join(FIGURES)}")
    return {name: as_text(value) for name, value in figures.items()}


@contextlib.contextmanager
def opened(file: str | os.PathLike[str] | TextIO) -> Iterator[TextIO]:
    """A file to import, as text that can be read again (see the CLI's own, for standard input)."""
    if not isinstance(file, (str, os.PathLike)):
        yield file
        return
    if not str(file).strip():
        raise InvalidValue("file", "is empty; give a CSV file")
    from tracker.service.files import open_to_read

    with open_to_read(file, "a CSV file") as binary:
        wrapper = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield wrapper
        finally:
            wrapper.detach()
