"""The closed vocabularies of an entry: status, kind, sponsor, confidence."""

from __future__ import annotations

import difflib
import enum
import functools
from collections.abc import Iterable
from typing import TypeVar

from tracker.errors import InvalidValue


class Choice(str, enum.Enum):
    """A value from a closed list, stored and shown as its lower-case text."""

    def __str__(self) -> str:
        return str(self.value)


class Status(Choice):
    ANNOUNCED = "announced"
    PLANNED = "planned"
    UNDER_CONSTRUCTION = "under-construction"
    OPERATIONAL = "operational"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DECOMMISSIONED = "decommissioned"


class H100eBasis(Choice):
    """What an H100-equivalent counts: dense BF16 (the tracker's), or Epoch AI's definition,
    the larger of a chip's dense 16-bit and INT8 rates over the H100's dense INT8."""

    BF16 = "bf16"
    EPOCH = "epoch"


# Lots in these statuses no longer count towards the planned total.
INACTIVE_STATUSES = (Status.CANCELLED, Status.DECOMMISSIONED)


class Kind(Choice):
    FACTORY = "factory"
    GIGAFACTORY = "gigafactory"
    SUPERCOMPUTER = "supercomputer"
    CLOUD_REGION = "cloud-region"
    PROGRAMME = "programme"


class Sponsor(Choice):
    """Who pays: a government (sovereign), a partnership, or private capital."""

    SOVEREIGN = "sovereign"
    PUBLIC_PRIVATE = "public-private"
    PRIVATE = "private"


class Confidence(Choice):
    """How sure the record is: confirmed by a party to it, reported by others, or rumoured."""

    CONFIRMED = "confirmed"
    REPORTED = "reported"
    RUMOURED = "rumoured"


class OperatorKind(Choice):
    """What an operator is: a state (a government, its agency, or a company it controls), a
    public-sector research or academic body, or a private company (listed or not)."""

    STATE = "state"
    PUBLIC = "public"
    PRIVATE = "private"


class Grade(Choice):
    """How far a source can be trusted: the operator, a government or the vendor itself
    (primary), a named news outlet (press), or an aggregator or blog citing others (secondary)."""

    PRIMARY = "primary"
    PRESS = "press"
    SECONDARY = "secondary"


class Qualifier(Choice):
    """How exactly a chip count was given: "more than 100,000" is at least 100,000."""

    EXACT = "exact"
    APPROX = "approx"
    AT_LEAST = "at-least"
    UP_TO = "up-to"

    def plus(self, other: Qualifier) -> Qualifier:
        """The qualifier of a sum: exact only when both are. A bound stays a bound when an
        approximate count is added (at least 100,000 and about 28,000 is at least 128,000,
        give or take); a lower bound added to an upper bound is neither, so approximate."""
        if self is other or other is Qualifier.EXACT:
            return self
        if self is Qualifier.EXACT:
            return other
        if Qualifier.APPROX in (self, other):
            return other if self is Qualifier.APPROX else self
        return Qualifier.APPROX

    def phrase(self, count: str) -> str:
        """A count in words: ``at least 500,000``."""
        return {"approx": "about ", "at-least": "at least ", "up-to": "up to "}.get(self.value, "") + count

    @property
    def bit(self) -> int:
        """A bit of its own, so that one SUM(DISTINCT bit) tells which qualifiers a sum holds."""
        return _QUALIFIER_BITS[self._value_]

    @classmethod
    def of_bits(cls, bits: int | None) -> Qualifier:
        """The qualifier of a sum of counts, from the bits of the qualifiers it holds."""
        return _qualifier_of_bits(bits or 0)

    def minus(self, other: Qualifier) -> Qualifier:
        """The qualifier of a difference: taking away a lower bound leaves an upper bound."""
        flipped = {Qualifier.AT_LEAST: Qualifier.UP_TO, Qualifier.UP_TO: Qualifier.AT_LEAST}
        return self.plus(flipped.get(other, other))


# Other ways to say a qualifier, as tables show it or as announcements word it.
QUALIFIER_SPELLINGS = {
    **dict.fromkeys(("≥", ">=", ">", "more than", "over", "at least"), Qualifier.AT_LEAST),
    **dict.fromkeys(("≤", "<=", "at most", "up to"), Qualifier.UP_TO),
    **dict.fromkeys(("~", "about", "around", "approximately"), Qualifier.APPROX),
    **dict.fromkeys(("=", "exactly"), Qualifier.EXACT),
}


def parse_qualifier(text: str, field: str = "qualifier") -> Qualifier:
    """A qualifier, by its name (``at-least``), its mark (``≥``) or in words (``more than``)."""
    key = " ".join(str(text).casefold().split())
    return QUALIFIER_SPELLINGS.get(key) or parse_choice(Qualifier, text, field, "qualifier")


_QUALIFIER_BITS = {"exact": 0, "approx": 1, "at-least": 2, "up-to": 4}


@functools.cache
def _qualifier_of_bits(bits: int) -> Qualifier:
    return sum_qualifiers(choice for choice in Qualifier if choice.bit & bits)


def sum_qualifiers(qualifiers: Iterable[Qualifier]) -> Qualifier:
    """The qualifier of a sum of counts with these qualifiers."""
    result = Qualifier.EXACT
    for qualifier in qualifiers:
        result = result.plus(qualifier)
    return result


# Surest first: --min-confidence reported means confirmed or reported.
CONFIDENCE_ORDER = (Confidence.CONFIRMED, Confidence.REPORTED, Confidence.RUMOURED)


def at_least(minimum: Confidence) -> tuple[Confidence, ...]:
    """The confidences as sure as ``minimum`` or surer."""
    return CONFIDENCE_ORDER[: CONFIDENCE_ORDER.index(minimum) + 1]


# What a summary can be grouped by.
class Unit(Choice):
    """What an announced chip count counts: accelerator packages (GPUs), or the superchips,
    servers or racks that hold them. The catalogue says how many each holds, by model."""

    GPU = "gpu"
    SUPERCHIP = "superchip"
    SERVER = "server"
    RACK = "rack"


class TokenRate(Choice):
    """The time a token figure was given over: per day or per month."""

    DAY = "day"
    MONTH = "month"


SUMMARY_KEYS = (
    "country", "region", "vendor", "model", "family", "status", "operator", "sponsor", "kind", "confidence",
    "operator-country", "vendor-country", "schedule",
)  # fmt: skip
DEFAULT_SUMMARY_KEYS = ("country", "vendor")

C = TypeVar("C", bound=Choice)


def parse_choice(choices: type[C], text: str, field: str, noun: str = "") -> C:
    """Read one value of a vocabulary, ignoring case, spaces and underscores; ``noun`` names
    the vocabulary in a message (the field's name by default)."""
    key = str(text).strip().casefold().replace("_", "-").replace(" ", "-")
    try:
        return choices(key)  # the choice of that value
    except ValueError:
        pass
    names = [choice.value for choice in choices]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InvalidValue(field, f"unknown {noun or field} {text!r}; {hint}use one of: {', '.join(names)}")
