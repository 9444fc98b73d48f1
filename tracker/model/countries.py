"""Countries: ISO 3166-1 alpha-2 codes, read from codes or English names."""

from __future__ import annotations

import csv
import difflib
import functools
import importlib.resources
import io

from tracker.errors import InvalidValue

COUNTRY_FORMS = "an ISO 3166-1 code (FR, FRA) or an English name (France)"


@functools.cache
def _aliases() -> dict[str, str]:
    """Common names that ISO does not use (UK, Russia, UAE), from seeds/country_aliases.csv."""
    text = (
        importlib.resources.files("tracker.seeds").joinpath("country_aliases.csv").read_text(encoding="utf-8")
    )
    return {row["alias"].casefold(): row["country"] for row in csv.DictReader(io.StringIO(text, newline=""))}


@functools.cache
def _spellings() -> dict[str, str]:
    """Every accepted spelling, case-folded, with the alpha-2 code it means."""
    import pycountry  # here, not at the top: its import costs every command 40 ms

    spellings: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                spellings[value.casefold()] = country.alpha_2
    spellings.update(_aliases())
    return spellings


def parse_country(text: str, field: str = "country") -> str:
    """Return the alpha-2 code for a country given as a code or name, in any case."""
    key = " ".join(str(text).split()).casefold()
    code = _spellings().get(key)
    if code is None:
        try:
            import pycountry

            code = pycountry.countries.lookup(key).alpha_2
        except LookupError:
            hint = _suggestion(key)
            accepted = f"{hint} Use {COUNTRY_FORMS}" if hint else f"use {COUNTRY_FORMS}"
            raise InvalidValue(field, f"unknown country {text!r}; {accepted}") from None
    return str(code)


def country_name(code: str) -> str:
    """The English short name of an alpha-2 code (the code itself if unknown)."""
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


@functools.cache
def _region_ids() -> frozenset[str]:
    text = importlib.resources.files("tracker.seeds").joinpath("regions.csv").read_text(encoding="utf-8")
    return frozenset(row["id"] for row in csv.DictReader(io.StringIO(text, newline="")))


def _suggestion(key: str) -> str:
    if key in _region_ids():
        return f"it is a region: filter by it with --region {key}."
    spellings = _spellings()
    close = difflib.get_close_matches(key, list(spellings), n=1, cutoff=0.75)
    if not close:
        return ""
    code = spellings[close[0]]
    return f"did you mean {country_name(code)} ({code})?"
