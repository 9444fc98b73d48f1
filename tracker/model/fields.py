"""Every field of an entry, declared once.

How a field is read from text (the command line, a file, the Python API), where it is stored,
how the export writes it, whether ``tracker update`` changes it, which option sets it and how
``tracker show`` labels it: all of it is derived from :data:`ENTRY_FIELDS`. A new optional
field is one declaration here (with ``sql``, the type of its column, which the entry table
takes from here) and its migration.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tracker.errors import InvalidValue
from tracker.model.cells import cell_text
from tracker.model.countries import parse_country
from tracker.model.names import match_key
from tracker.model.periods import Period, parse_period, past_day, period_from_parts
from tracker.model.values import parse_id, parse_power, parse_text
from tracker.model.vocabulary import Choice, Confidence, Kind, Sponsor, Status, parse_choice

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine


class Regions(Protocol):
    """What reading a region scope needs: the regions stored (the catalogue knows them)."""

    def region(self, text: str, field_name: str = "region") -> str: ...


class Stored(enum.Enum):
    """How a field's value is held in the entry table, and so how it is written and shown."""

    TEXT = "text"  # text, as it is
    CHOICE = "choice"  # one value of a vocabulary, as its text
    DAY = "day"  # a date
    PERIOD = "period"  # a period, in two columns: its first day and its precision
    DECIMAL = "decimal"  # an exact number
    LIST = "list"  # several texts, kept in a table of their own (the sources)


Read = Callable[[str, Regions], Any]  # a field's text (never blank) to its value


@dataclass(frozen=True)
class EntryField:
    """One field of an entry: its name in the API and the service (``power_mw``), and all
    that is derived from it.

    ``read`` turns text that is not blank into the value, or raises
    :class:`~tracker.errors.InvalidValue` naming the field. ``columns``: the entry table's
    (none for a list, kept apart); ``export``: its column in the export (None: not
    exported); ``option``: its command-line option (None: none); ``updatable``: whether
    ``tracker update`` changes it; ``label``: how ``tracker show`` names it; ``sql``: what
    makes the type of its column (called when the tables are declared, so that reading the
    registry loads no SQLAlchemy), for a field the entry table does not declare itself.
    """

    name: str
    read: Read
    help: str
    stored: Stored = Stored.TEXT
    columns: tuple[str, ...] | None = None  # None: one column named as the field
    export: str | None = ""  # "": named as the field
    option: str | None = ""  # "": --name, with hyphens
    metavar: str | None = None
    updatable: bool = True
    label: str = ""  # "": the field's name
    choices: type[Choice] | None = None
    sql: Callable[[], TypeEngine[Any] | tuple[TypeEngine[Any], ...]] | None = None

    @property
    def table_columns(self) -> tuple[str, ...]:
        if self.stored is Stored.LIST:
            return ()
        return (self.name,) if self.columns is None else self.columns

    @property
    def export_column(self) -> str | None:
        return self.name if self.export == "" else self.export

    @property
    def flag(self) -> str | None:
        """The option that sets it: ``--power-mw``."""
        return "--" + self.name.replace("_", "-") if self.option == "" else self.option

    @property
    def shown_as(self) -> str:
        return self.label or self.name

    def store(self, value: object) -> tuple[object, ...]:
        """The value as the entry table's columns hold it."""
        if self.stored is Stored.PERIOD:
            return (value.start, value.precision.value) if isinstance(value, Period) else (None, None)
        if isinstance(value, Choice):
            return (value.value,)
        return (value,)

    def load(self, stored: Sequence[object]) -> object:
        """The value from the entry table's columns: :meth:`store` undone."""
        if self.stored is Stored.PERIOD:
            start, precision = stored
            return period_from_parts(
                start if isinstance(start, dt.date) else None, None if precision is None else str(precision)
            )
        value = stored[0]
        if self.choices is not None and value is not None:
            return self.choices(value)
        return value

    def text(self, value: object) -> str:
        """The value as the export writes it, and the history of edits keeps it."""
        return cell_text(value)


def _choice(choices: type[Choice], name: str) -> Read:
    return lambda text, _: parse_choice(choices, text, name)


def _free_text(name: str, longest: int, *, one_line: bool = True) -> Read:
    return lambda text, _: parse_text(text, name, longest, one_line=one_line)


def _sql_type(name: str, *arguments: int) -> TypeEngine[Any]:
    """A SQLAlchemy column type by its name (``String``, 300), imported only when called."""
    from sqlalchemy import types

    made: TypeEngine[Any] = getattr(types, name)(*arguments)
    return made


def _period_types() -> tuple[TypeEngine[Any], ...]:
    """The types of a period's two columns: its first day and its precision."""
    return (_sql_type("Date"), _sql_type("String", 10))


def _named(text: str, name: str, longest: int) -> str | None:
    """A name to match (an operator's): free text with a letter or a digit in it."""
    named = parse_text(text, name, longest)
    if named is not None and not match_key(named):
        raise InvalidValue(name, f"{text!r} has no letters or digits")
    return named


def choices_help(choices: type[Choice]) -> str:
    """A vocabulary for help text: ``a, b or c``."""
    values = [choice.value for choice in choices]
    return ", ".join(values[:-1]) + " or " + values[-1]


# In the order of the export's columns (lots' columns aside: see EXPORT_COLUMNS).
ENTRY_FIELDS: tuple[EntryField, ...] = (
    EntryField(
        "id",
        lambda text, _: parse_id(text),
        "Id to give it (default: made from the name, such as nebius-uk).",
        metavar="ID",
        updatable=False,
    ),
    EntryField("name", _free_text("name", 200), "A new name."),
    EntryField(
        "operator",
        lambda text, _: _named(text, "operator", 200),
        "Who runs it: an operator's name or alias (see `tracker operators`); a name not known yet "
        "becomes a new operator.",
    ),
    EntryField(
        "country",
        lambda text, _: parse_country(text),
        "ISO code or English name: FR, FRA, France, UK.",
        metavar="C",
    ),
    EntryField("city", _free_text("city", 100), "Where the site is, within its country."),
    EntryField(
        "kind",
        _choice(Kind, "kind"),
        f"{choices_help(Kind)}.",
        stored=Stored.CHOICE,
        metavar="KIND",
        choices=Kind,
    ),
    EntryField(
        "sponsor",
        _choice(Sponsor, "sponsor"),
        f"{choices_help(Sponsor)} (leave out when unknown).",
        stored=Stored.CHOICE,
        metavar="SPONSOR",
        choices=Sponsor,
    ),
    EntryField(
        "parent",
        lambda text, _: parse_id(text, "parent"),
        "The programme it is part of: its chips then count once, within the programme's.",
        columns=("parent_id",),
        metavar="ID",
        label="programme",
    ),
    EntryField(
        "status",
        _choice(Status, "status"),
        f"{choices_help(Status)}; default {Status.ANNOUNCED}.",
        stored=Stored.CHOICE,
        metavar="STATUS",
        updatable=False,  # a status changes through `tracker status`, on a day, with a source
        choices=Status,
    ),
    EntryField(
        "confidence",
        _choice(Confidence, "confidence"),
        f"{choices_help(Confidence)}.",
        stored=Stored.CHOICE,
        metavar="CONFIDENCE",
        choices=Confidence,
    ),
    EntryField(
        "announced",
        lambda text, _: past_day(text),
        "Day it was announced: 2025-06-11.",
        stored=Stored.DAY,
        columns=("announced_on",),
        metavar="DATE",
    ),
    EntryField(
        "online",
        lambda text, _: parse_period(text),
        "When it comes online, as precisely as known: 2025-12, Q4 2025, H2 2026, 2026.",
        stored=Stored.PERIOD,
        columns=("online_start", "online_precision"),
        metavar="PERIOD",
    ),
    EntryField(
        "power_mw",
        lambda text, _: parse_power(text),
        "Power capacity in megawatts.",
        stored=Stored.DECIMAL,
        metavar="X",
        label="power (MW)",
    ),
    EntryField(
        "sources",
        lambda text, _: text,  # a list: see tracker.service.reading.read_sources
        "Where the figures come from: a URL or a citation. Repeatable.",
        stored=Stored.LIST,
        option="--source",
        metavar="URL",
    ),
    EntryField("notes", _free_text("notes", 10_000, one_line=False), "Free text.", option="--note"),
    EntryField(
        "scope",
        lambda text, regions: regions.region(text, "scope"),
        "For a programme spanning several countries, instead of --country: a region such as "
        "europe or eu (see `tracker regions`).",
        metavar="REGION",
    ),
    EntryField(
        "users",
        _free_text("users", 1_000),
        "Others who own a share of it or use it, as its sources name them (its operator aside).",
        metavar="TEXT",
        sql=lambda: _sql_type("Text"),
    ),
    EntryField(
        "first_online",
        lambda text, _: parse_period(text, "first_online"),
        "When it was first announced to come online: kept when --online moves it (default: its "
        "first --online). Give it for an entry recorded after its date had moved.",
        stored=Stored.PERIOD,
        columns=("first_online_start", "first_online_precision"),
        metavar="PERIOD",
        label="first due",
        sql=_period_types,
    ),
)

FIELDS = {field.name: field for field in ENTRY_FIELDS}
# The fields kept in the entry table's own columns, and those columns, in the fields' order.
STORED_FIELDS = tuple(field for field in ENTRY_FIELDS if field.table_columns)
FIELD_COLUMNS = tuple(column for field in STORED_FIELDS for column in field.table_columns)

# A chip lot's columns in the export, read by tracker.service.reading.read_lot.
LOT_EXPORT_COLUMNS = (
    "lot", "vendor", "model", "chips", "qualifier", "announced_chips", "announced_unit", "lot_status",
    "lot_online",
)  # fmt: skip
# The export's columns: these first, in the order scripts rely on; then the fields of an entry
# declared since, in their order.
_FIRST_COLUMNS = (
    "id", "name", "operator", "country", "city", "kind", "sponsor", "parent", "status",
    "confidence", "announced", "online", "lot", "vendor", "model", "chips", "power_mw",
    "sources", "notes", "scope", "qualifier", "announced_chips", "announced_unit", "lot_status", "lot_online",
)  # fmt: skip
EXPORT_COLUMNS: tuple[str, ...] = (
    *_FIRST_COLUMNS,
    *(
        column
        for field in ENTRY_FIELDS
        if (column := field.export_column) is not None and column not in _FIRST_COLUMNS
    ),
)
# The export's columns that are an entry's own fields (the others are its lots').
EXPORT_FIELDS = {field.export_column: field for field in ENTRY_FIELDS if field.export_column is not None}


def stored_values(values: Mapping[str, object]) -> tuple[object, ...]:
    """An entry's values, by field name, as the entry table's :data:`FIELD_COLUMNS`; the first
    announced online period, when not given, is the online period (:func:`with_first_online`)."""
    values = with_first_online(values)
    get = values.get
    stored: list[object] = []
    add = stored.append
    # EntryField.store, inline: an import stores hundreds of thousands of entries.
    for name, period in _STORED_PLAN:
        value = get(name)
        if value is None:
            stored += _NOTHING[period]
        elif period:
            stored += (value.start, value.precision._value_) if isinstance(value, Period) else (None, None)
        else:
            add(value._value_ if isinstance(value, Choice) else value)
    return tuple(stored)


# Each stored field's name, and whether it is a period (two columns), in STORED_FIELDS order.
_STORED_PLAN = tuple((field.name, field.stored is Stored.PERIOD) for field in STORED_FIELDS)
_NOTHING = {False: (None,), True: (None, None)}  # a field without a value, as stored


def with_first_online(values: Mapping[str, object]) -> Mapping[str, object]:
    """An entry's values with its first announced online period: as given, or, where none is
    given, its online period (an entry's first date is the first one recorded for it)."""
    if values.get("first_online") is not None or values.get("online") is None:
        return values
    return {**values, "first_online": values["online"]}
