"""Plain values of an entry read from text: chip counts, power, ids, free text."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from tracker.errors import InvalidValue
from tracker.model.names import ID_PATTERN, MAX_ID_LENGTH, slugify

MAX_CHIPS = 10**12
MAX_POWER_MW = 100_000
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _plain_number(text: str) -> str | None:
    """ASCII digits with an optional decimal point, thousands commas (18,000) removed;
    None for anything else, such as 1,5 or 1e3."""
    cleaned = text.strip()
    if _THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    return cleaned if _NUMBER.fullmatch(cleaned) else None


def parse_quantity(text: str | int, field: str = "chips") -> int:
    """A chip count: a whole number from 1, thousands separators allowed (``18,000``)."""
    number = _plain_number(str(text))
    if number is None or "." in number or not 0 < int(number) <= MAX_CHIPS:
        raise InvalidValue(
            field, f"{text!r} is not a chip count; give a whole number from 1 to {MAX_CHIPS:,}"
        )
    return int(number)


def parse_power(text: str, field: str = "power_mw") -> Decimal:
    """A power in megawatts: a number above zero with at most three decimals."""
    number = _plain_number(text)
    try:
        value = Decimal(number) if number is not None else None
    except InvalidOperation:
        value = None
    if value is None or not 0 < value <= MAX_POWER_MW or value != value.quantize(Decimal("0.001")):
        raise InvalidValue(
            field,
            f"{text!r} is not a power; give megawatts above 0 and up to {MAX_POWER_MW:,}, "
            "with at most 3 decimals, such as 120 or 1.5",
        )
    return value.normalize() if value == value.to_integral() else value


MAX_TFLOPS = Decimal(1_000_000)
MAX_WATTS = 1_000_000
MAX_PER_UNIT = 100_000


def parse_tflops(text: str, field: str) -> Decimal:
    """A spec-sheet rate (TFLOP/s, or TOPS for INT8): a number above zero with at most one
    decimal (989.5)."""
    number = _plain_number(text)
    try:
        value = Decimal(number) if number is not None else None
    except InvalidOperation:
        value = None
    if value is None or not 0 < value <= MAX_TFLOPS or value != value.quantize(Decimal("0.1")):
        raise InvalidValue(
            field,
            f"{text!r} is not a {'TOPS' if field.endswith('tops') else 'TFLOP/s'} figure; give a number "
            f"above 0 and up to {MAX_TFLOPS:,}, "
            f"with at most 1 decimal, such as {'1979' if field.endswith('tops') else '989.5'}",
        )
    return value


def parse_count(text: str, field: str, what: str, limit: int) -> int:
    """A whole number from 1 to ``limit`` (watts, accelerators per rack...)."""
    number = _plain_number(text)
    if number is None or "." in number or not 0 < int(number) <= limit:
        raise InvalidValue(field, f"{text!r} is not {what}; give a whole number from 1 to {limit:,}")
    return int(number)


# Unicode's control characters (category Cc), which the standard fixes at these two ranges.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Characters that show nothing themselves and change how the text around them reads: the
# bidirectional embeddings, overrides and isolates (Unicode's Bidi_Control, but for the marks
# LRM, RLM and ALM, which only set a direction), the zero-width space and the byte-order mark
# (an import strips the one that starts a file). A name holding one is not the name a reader
# sees. The zero-width non-joiner and joiner (U+200C, U+200D) are kept: Persian and Indic
# scripts, and emoji, need them.
INVISIBLE = {
    "\u200b": "zero-width space",
    "\u202a": "left-to-right embedding",
    "\u202b": "right-to-left embedding",
    "\u202c": "pop directional formatting",
    "\u202d": "left-to-right override",
    "\u202e": "right-to-left override",
    "\u2066": "left-to-right isolate",
    "\u2067": "right-to-left isolate",
    "\u2068": "first strong isolate",
    "\u2069": "pop directional isolate",
    "\ufeff": "byte-order mark",
}
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(INVISIBLE) + "]")


def control_character(text: str, allowed: str = "") -> str | None:
    """The first control character of ``text`` (NUL, escape...) not in ``allowed``, if any."""
    for found in _CONTROL.finditer(text):
        if found.group() not in allowed:
            return found.group()
    return None


def refused_character(text: str, allowed: str = "") -> str | None:
    """The first character of ``text`` that free text may not hold, if any: a control
    character not in ``allowed``, or one of :data:`INVISIBLE`."""
    for found in _REFUSED.finditer(text):
        if found.group() not in allowed:
            return found.group()
    return None


def check_text(text: str, field: str, allowed: str = "") -> None:
    """Refuse text that holds a control character (but those ``allowed``) or one that makes it
    read otherwise than it is stored; every free-text field is checked here."""
    found = refused_character(text, allowed)
    if found is None:
        return
    if found in INVISIBLE:
        raise InvalidValue(
            field,
            f"holds U+{ord(found):04X}, a {INVISIBLE[found]}, which makes text read otherwise than it is "
            "stored; remove it",
        )
    raise InvalidValue(field, f"holds the control character U+{ord(found):04X}; remove it")


def parse_text(text: str | None, field: str, max_length: int, *, one_line: bool = True) -> str | None:
    """Free text, trimmed; empty means none. A ``one_line`` field (a name, a city) has its
    line breaks and tabs folded into single spaces, so that tables stay tables; other text
    keeps its lines, each break written \\n. Other control characters (NUL, a terminal
    escape), and those that make text read otherwise than it is stored (a right-to-left
    override), are refused: see :func:`check_text`."""
    if text is None:
        return None
    if one_line:
        cleaned = " ".join(str(text).split())
    else:  # line breaks as \n, however the file was saved
        cleaned = str(text).replace("\r\n", "\n").replace("\r", "\n").strip()
    check_text(cleaned, field, allowed="" if one_line else "\n\t")
    if len(cleaned) > max_length:
        raise InvalidValue(field, f"is {len(cleaned):,} characters long; at most {max_length:,} are allowed")
    return cleaned or None


def parse_id(text: str, field: str = "id") -> str:
    """An entry id: lower-case ASCII letters and digits in words joined by single hyphens."""
    cleaned = str(text).strip()
    if len(cleaned) > MAX_ID_LENGTH:
        raise InvalidValue(field, f"is {len(cleaned)} characters long; an id has at most {MAX_ID_LENGTH}")
    if not ID_PATTERN.match(cleaned):
        raise InvalidValue(
            field,
            f"{text!r} is not a valid id; use lower-case letters, digits and single hyphens, "
            f"such as {slugify(cleaned) or 'nebius-uk'}",
        )
    return cleaned


# Power of a site per watt of its accelerators' TDP: the servers around them (CPUs, memory,
# networking) and the building (cooling, power conversion). The median of reported power over
# chips x TDP on the Epoch AI clusters and the seeds that report both (docs/compute.md).
POWER_FACTOR = Decimal("2.1")
MAX_POWER_FACTOR = Decimal(10)
_FACTOR = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?")


def parse_power_factor(value: object, field: str = "power_factor") -> Decimal:
    """A power factor: watts of a site per watt of its chips' TDP, from 1 to 10, with at most
    two decimals."""
    text = str(value).strip()
    factor = Decimal(text) if _FACTOR.fullmatch(text) else None
    if factor is None or not 1 <= factor <= MAX_POWER_FACTOR:
        raise InvalidValue(
            field,
            f"{text!r} is not a power factor; give the site's watts per watt of chip TDP, "
            f"from 1 to {MAX_POWER_FACTOR} with at most 2 decimals, such as {POWER_FACTOR}",
        )
    return factor
