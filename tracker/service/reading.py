"""Entries read from text, as a person types them or a file gives them: every field checked,
every problem told at once.

The one path by which ``add``, ``update``, ``import`` and the Epoch import read what they are
given: fields are read as :mod:`tracker.model.fields` declares them, problems gathered by
:class:`Problems` (as beancount's checker gathers them), and where an entry is checked by
:func:`place_problem`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tracker.errors import InvalidValue, Problems
from tracker.model.fields import ENTRY_FIELDS, FIELDS, Read, Regions, Stored
from tracker.model.periods import Period, parse_period
from tracker.model.values import check_text, parse_quantity
from tracker.model.vocabulary import Kind, Qualifier, Status, Unit, parse_choice, parse_qualifier
from tracker.service.catalogue import Catalogue

SOURCE_SEPARATOR = " | "  # between the sources of one entry in a CSV cell
MAX_SOURCE_BYTES = 2000  # PostgreSQL indexes at most 2,704 bytes of a unique text
MAX_LOTS = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class LotInput:
    """A chip lot as it will be stored: vendor and model as the catalogue names them."""

    vendor: str
    model: str | None
    quantity: int
    number: int | None = None  # the lot's number within its entry, when a file gives it
    qualifier: Qualifier = Qualifier.EXACT
    # The count as announced, where it was of superchips, servers or racks.
    announced: tuple[int, Unit] | None = None
    # The lot's own status and online period, where they differ from its entry's.
    status: Status | None = None
    online: Period | None = None


class EntryInput:
    """An entry whose every field has been read and checked: its values by field name (the
    fields of :data:`~tracker.model.fields.ENTRY_FIELDS`; a field not given is None), its chip
    lots and its sources."""

    __slots__ = ("lots", "sources", "values")

    def __init__(
        self,
        values: Mapping[str, object] | None = None,
        *,
        lots: Iterable[LotInput] = (),
        sources: Iterable[str] = (),
        **fields: object,
    ) -> None:
        given = {**values, **fields} if values is not None else fields
        if not given.keys() <= _FIELD_NAMES:
            unknown = set(given) - _FIELD_NAMES
            raise TypeError(f"not fields of an entry: {', '.join(sorted(unknown))}")
        self.values: dict[str, Any] = {name: given.get(name) for name in _VALUE_NAMES}
        if self.values["status"] is None:  # an entry is announced until told otherwise
            self.values["status"] = Status.ANNOUNCED
        self.lots = tuple(lots)
        self.sources = tuple(sources)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]  # a field: entry.operator, entry.online...
        except KeyError:
            raise AttributeError(name) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntryInput):
            return NotImplemented
        return (self.values, self.lots, self.sources) == (other.values, other.lots, other.sources)

    def __hash__(self) -> int:
        return hash((tuple(self.values.items()), self.lots, self.sources))

    def __repr__(self) -> str:
        return f"EntryInput({self.values!r}, lots={self.lots!r}, sources={self.sources!r})"

    # The fields that the service's rules read, typed.
    @property
    def name(self) -> str:
        return str(self.values["name"] or "")

    @property
    def id(self) -> str | None:
        return self.values["id"]

    @property
    def country(self) -> str | None:
        return self.values["country"]

    @property
    def scope(self) -> str | None:
        return self.values["scope"]

    @property
    def kind(self) -> Kind | None:
        return self.values["kind"]

    @property
    def status(self) -> Status:
        return self.values["status"]

    @property
    def parent(self) -> str | None:
        return self.values["parent"]

    def replace(
        self,
        *,
        lots: Iterable[LotInput] | None = None,
        sources: Iterable[str] | None = None,
        **fields: object,
    ) -> EntryInput:
        """A copy with these fields, lots or sources in place of its own."""
        if not fields.keys() <= _FIELD_NAMES:
            unknown = set(fields) - _FIELD_NAMES
            raise TypeError(f"not fields of an entry: {', '.join(sorted(unknown))}")
        copy = EntryInput.__new__(EntryInput)  # its values are in order and complete already
        copy.values = {**self.values, **fields}
        if copy.values["status"] is None:
            copy.values["status"] = Status.ANNOUNCED
        copy.lots = self.lots if lots is None else tuple(lots)
        copy.sources = self.sources if sources is None else tuple(sources)
        return copy


_FIELD_NAMES = frozenset(FIELDS)
# The fields an entry's values hold, in their order (its sources are kept apart).
_VALUE_NAMES = tuple(field.name for field in ENTRY_FIELDS if field.name != "sources")
_LOT_KEYS = frozenset({"chips", "vendor", "model", "qualifier", "unit", "announced_chips", "announced_unit"})


class _Given:
    """Text fields as given (a mapping of key to text, a list of texts or None), each read
    into its value with every problem kept in ``problems``."""

    def __init__(self, raw: Mapping[str, object], problems: Problems) -> None:
        self.raw = raw
        self.problems = problems

    def given(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, (list, tuple)):
            return any(str(item).strip() for item in value)
        return value is not None and bool(str(value).strip())

    def __call__(self, key: str, parse: Callable[[str], T]) -> T | None:
        value = self.raw.get(key)
        if isinstance(value, str):  # most often: one text, read without the checks below
            text = value
            return self.problems.read(lambda: parse(text)) if text.strip() else None
        if not self.given(key):
            return None
        if isinstance(value, (list, tuple)):
            if len(value) > 1:
                # A lot's fields repeated would make several lots: `add` makes one, `update` more.
                one = "an entry is added with one chip lot" if key in _LOT_KEYS else "give it once"
                self.problems.add(InvalidValue(key, f"is given {len(value)} times; {one}"))
                return None
            value = value[0]
        given = str(value)
        return self.problems.read(lambda: parse(given))


def entry_readers(regions: Regions) -> dict[str, Callable[[str], object]]:
    """How each of an entry's own fields is read from its text (not blank), by name: the
    registry's readers, with the regions a scope may name (an import reads each distinct
    text of a file's column with these, once)."""
    return {
        field.name: functools.partial(_read_field, field.read, regions)
        for field in ENTRY_FIELDS
        if field.stored is not Stored.LIST
    }


def _read_field(read: Read, regions: Regions, text: str) -> object:
    return read(text, regions)


# The fields read before the chip lots, so that problems are told in the order people think
# of them: what it is called and where it is, then its chips, then the rest.
_FIRST = ("name", "country", "scope")


def read_entry(
    raw: Mapping[str, object], catalogue: Catalogue, lots: Sequence[Mapping[str, object]] | None = None
) -> EntryInput:
    """Read an entry from text fields, as typed on the command line or read from a file.

    Every field is checked; all problems are raised together as :class:`InvalidInput`.
    Keys: the fields of :data:`~tracker.model.fields.ENTRY_FIELDS` by name (``sources`` a
    list, or text joined by " | "), and a chip lot's: lot, chips, vendor, model, qualifier,
    announced_chips and announced_unit, lot_status and lot_online; ``lots`` gives several,
    one mapping each.
    """
    problems = Problems()
    read = _Given(raw, problems)
    readers = entry_readers(catalogue)
    values: dict[str, object] = {}
    if not read.given("name"):
        problems.add(InvalidValue("name", "is empty; every entry needs a name"))
    for name in _FIRST:
        values[name] = read(name, readers[name])
    lot_readers = [read] if lots is None else [_Given(lot, problems) for lot in lots]
    entry_lots = tuple(lot for reader in lot_readers for lot in _read_lot(reader, catalogue))
    for field in ENTRY_FIELDS:
        if field.name not in values and field.stored is not Stored.LIST:
            values[field.name] = read(field.name, readers[field.name])
    sources = tuple(read_sources(raw.get("sources"), problems.found))
    problems.check()
    return EntryInput(values, lots=entry_lots, sources=sources)


def place_problem(
    country: str | None,
    scope: str | None,
    kind: Kind | str | None,
    *,
    changed: Collection[str] | None = None,
    entry_id: str = "",
) -> InvalidValue | None:
    """What is wrong with where an entry is: it has a country, or, a programme, a region scope.

    Checked on the entry as it will be stored: a file's row may leave out a column whose
    stored value then stands. ``changed``: the fields an update changes (None for a new
    entry), so that the problem names the one to correct.
    """
    if scope is None and country is None:
        if changed is None:
            return InvalidValue(
                "country",
                "is missing; give a country code or name, such as FR (or a region --scope for a programme)",
            )
        if "scope" in changed:
            return InvalidValue(
                "scope", "cannot be emptied without a --country; every entry has a country or a scope"
            )
        return InvalidValue("country", "cannot be emptied; every entry has a country, or a programme a scope")
    if scope is not None and kind != Kind.PROGRAMME:
        if changed is not None and "kind" in changed:
            return InvalidValue("kind", f"{entry_id} has the scope {scope}; only a programme spans countries")
        return InvalidValue("scope", "is for programmes (kind programme), which may span several countries")
    if scope is not None and country is not None:
        field = (
            "country" if changed is not None and "country" in changed and "scope" not in changed else "scope"
        )
        return InvalidValue(field, "a programme has a country or a scope, not both")
    return None


def parent_problem(parent: str, kind: str | None) -> InvalidValue | None:
    """What is wrong with a parent of this kind: a parent is a programme."""
    if kind == Kind.PROGRAMME:
        return None
    return InvalidValue(
        "parent",
        f"{parent!r} is not a programme (its kind is {kind or 'not given'}); a parent has kind programme",
    )


def read_lot(raw: Mapping[str, object], catalogue: Catalogue) -> LotInput | None:
    """Read one chip lot from text fields (see :func:`read_entry`); None when they are all
    empty. Every problem is raised together as :class:`InvalidInput`."""
    problems = Problems()
    lots = _read_lot(_Given(raw, problems), catalogue)
    problems.check()
    return lots[0] if lots else None


def parse_lot_number(text: str) -> int:
    """A chip lot's number within its entry: 1 to 10,000."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or not 0 < int(cleaned) <= MAX_LOTS:
        raise InvalidValue("lot", f"{text!r} is not a lot number; give a whole number from 1 to {MAX_LOTS:,}")
    return int(cleaned)


def parse_lot_status(text: str) -> Status:
    return parse_choice(Status, text, "lot_status", "status")


def parse_lot_online(text: str) -> Period:
    return parse_period(text, "lot_online")


_WITHOUT_CHIPS = ("lot", "qualifier", "announced_unit", "lot_status", "lot_online")


def _read_lot(read: _Given, catalogue: Catalogue) -> tuple[LotInput, ...]:
    if not any(read.given(key) for key in ("chips", "vendor", "model", "announced_chips")):
        for key in _WITHOUT_CHIPS:
            if read.given(key):
                read.problems.add(InvalidValue(key, "is given without chips; give chips and vendor"))
        return ()
    if not read.given("vendor"):
        read.problems.add(
            InvalidValue("vendor", "is needed with chips; use `unknown` when it was not disclosed")
        )
    if not read.given("chips") and not read.given("announced_chips"):
        read.problems.add(InvalidValue("chips", "is needed with vendor and model; give the chip count"))
    quantity = read("chips", parse_quantity)
    vendor = read("vendor", catalogue.vendor)
    model = read("model", lambda text: catalogue.model(vendor, text)) if vendor else None
    number = read("lot", parse_lot_number)
    qualifier = read("qualifier", parse_qualifier)
    announced = _read_announced(read, catalogue, vendor, model, quantity)
    status = read("lot_status", parse_lot_status)
    online = read("lot_online", parse_lot_online)
    if announced is not None:
        quantity = catalogue.accelerators(vendor or "", model, announced[1], announced[0])
    if quantity is None or vendor is None:
        return ()
    return (
        LotInput(
            vendor=vendor,
            model=model,
            quantity=quantity,
            number=number,
            qualifier=qualifier or Qualifier.EXACT,
            announced=announced if announced is None or announced[1] is not Unit.GPU else None,
            status=status,
            online=online,
        ),
    )


def _read_announced(
    read: _Given, catalogue: Catalogue, vendor: str | None, model: str | None, chips: int | None
) -> tuple[int, Unit] | None:
    """A count announced in superchips, servers or racks (announced_chips and announced_unit),
    checked against the catalogue and against the accelerators given (chips), if any."""
    count = read("announced_chips", lambda text: parse_quantity(text, "announced_chips"))
    unit = read("announced_unit", lambda text: parse_choice(Unit, text, "announced_unit", "unit"))
    if count is None or unit is None:
        if count is not None and not read.given("announced_unit"):
            read.problems.add(InvalidValue("announced_unit", "is missing; give superchip, server or rack"))
        elif not read.given("announced_chips") and read.given("announced_unit") and chips is not None:
            read.problems.add(InvalidValue("announced_chips", "is missing; give the count of that unit"))
        return None
    if vendor is None:
        return None
    accelerators = read.problems.read(lambda: catalogue.accelerators(vendor, model, unit, count))
    if accelerators is None:
        return None
    if chips is not None and chips != accelerators:
        read.problems.add(
            InvalidValue(
                "chips",
                f"{chips:,} is not {count:,} {unit.value}s of {vendor} {model}: those are {accelerators:,}",
            )
        )
        return None
    return count, unit


def read_sources(value: object, problems: list[InvalidValue]) -> Iterator[str]:
    """The sources given as a list, or as text joined by " | ": each trimmed to one line;
    empty, over-long or unprintable ones are added to ``problems``."""
    items: Iterable[object] = ()
    if isinstance(value, str):
        items = value.split(SOURCE_SEPARATOR) if value.strip() else []
    elif isinstance(value, Iterable):
        items = value
    for item in map(str, items):
        reference = " ".join(item.split())
        if not reference:
            problems.append(InvalidValue("sources", "is empty; give a URL or a citation"))
            continue
        try:
            check_text(reference, "sources")
        except InvalidValue as problem:
            problems.append(problem)
            continue
        if len(reference.encode("utf-8")) > MAX_SOURCE_BYTES:
            problems.append(
                InvalidValue("sources", f"is longer than {MAX_SOURCE_BYTES:,} bytes; cite it more briefly")
            )
        elif SOURCE_SEPARATOR in reference:
            problems.append(
                InvalidValue("sources", f"{reference!r} holds {SOURCE_SEPARATOR!r}, which separates sources")
            )
        else:
            yield reference


def lot_numbers(lots: Sequence[LotInput]) -> list[int]:
    """The numbers the lots are stored under: their own where given, else 1, 2, 3..."""
    return [lot.number or place for place, lot in enumerate(lots, start=1)]


def with_lot_numbers(lots: Sequence[LotInput], numbers: Sequence[int]) -> tuple[LotInput, ...]:
    """The lots under these numbers."""
    return tuple(dataclasses.replace(lot, number=number) for lot, number in zip(lots, numbers, strict=True))
