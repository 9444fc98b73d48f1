"""Adding, reading and removing entries and their chip lots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypedDict, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tracker.errors import Conflict, InvalidInput, InvalidValue, NotFound
from tracker.model.countries import parse_country
from tracker.model.names import slugify
from tracker.model.periods import Period, parse_period, past_day, period_from_parts
from tracker.model.tables import ChipLot, Entry, EntryRemoval, Source, StatusEvent
from tracker.model.values import check_text, parse_id, parse_power, parse_quantity, parse_text
from tracker.model.vocabulary import (
    Confidence,
    Kind,
    Qualifier,
    Sponsor,
    Status,
    Unit,
    parse_choice,
    parse_qualifier,
)
from tracker.service.catalogue import Catalogue, load_catalogue
from tracker.service.database import bytewise, insert_new
from tracker.service.filters import Filters
from tracker.service.programmes import Amount, coverage, qualifier_bits, total

SOURCE_SEPARATOR = " | "  # between the sources of one entry in a CSV cell
MAX_SOURCE_BYTES = 2000  # PostgreSQL indexes at most 2,704 bytes of a unique text
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for a duplicate key
ENTRY_KEY = cast(sa.Table, Entry.__table__).primary_key
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


@dataclass(frozen=True)
class EntryInput:
    """An entry whose every field has been read and checked."""

    name: str
    country: str | None  # None only for a programme with a region scope instead
    id: str | None = None
    scope: str | None = None
    operator: str | None = None
    city: str | None = None
    kind: Kind | None = None
    sponsor: Sponsor | None = None
    status: Status = Status.ANNOUNCED
    confidence: Confidence | None = None
    announced: dt.date | None = None
    online: Period | None = None
    power_mw: Decimal | None = None
    parent: str | None = None
    lots: tuple[LotInput, ...] = ()
    sources: tuple[str, ...] = ()
    notes: str | None = None


class _FieldReader:
    """Reads text fields one by one, collecting every problem instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, object], problems: list[InvalidValue] | None = None) -> None:
        self.raw = raw
        self.problems: list[InvalidValue] = [] if problems is None else problems

    def given(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, (list, tuple)):
            return any(str(item).strip() for item in value)
        return value is not None and bool(str(value).strip())

    def __call__(self, key: str, parse: Callable[[str], T]) -> T | None:
        value = self.raw.get(key)
        if type(value) is str:  # most often: one text, read without the checks below
            return self._parse(value, parse) if value.strip() else None
        if not self.given(key):
            return None
        if isinstance(value, (list, tuple)):
            if len(value) > 1:
                self.problems.append(
                    InvalidValue(key, f"is given {len(value)} times; an entry is added with one chip lot")
                )
                return None
            value = value[0]
        return self._parse(str(value), parse)

    def _parse(self, text: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(text)
        except InvalidValue as problem:
            self.problems.append(problem)
            return None

    def required(self, key: str, parse: Callable[[str], T], missing: str) -> T | None:
        if not self.given(key):
            self.problems.append(InvalidValue(key, missing))
        return self(key, parse)


class EntryFields(TypedDict):
    """How :func:`read_entry` reads each of an entry's own fields (not its lots or sources),
    by key: a function of the field's text, not blank, that returns its value or raises
    :class:`InvalidValue`."""

    name: Callable[[str], str | None]
    country: Callable[[str], str]
    scope: Callable[[str], str]
    id: Callable[[str], str]
    operator: Callable[[str], str | None]
    city: Callable[[str], str | None]
    kind: Callable[[str], Kind]
    sponsor: Callable[[str], Sponsor]
    status: Callable[[str], Status]
    confidence: Callable[[str], Confidence]
    announced: Callable[[str], dt.date]
    online: Callable[[str], Period]
    power_mw: Callable[[str], Decimal]
    parent: Callable[[str], str]
    notes: Callable[[str], str | None]


def entry_fields(catalogue: Catalogue) -> EntryFields:
    """The readers of an entry's own fields (an import reads each distinct text of a file's
    column with these, once)."""
    return {
        "name": lambda text: parse_text(text, "name", 200),
        "country": parse_country,
        "scope": lambda text: catalogue.region(text, "scope"),
        "id": parse_id,
        "operator": lambda text: parse_text(text, "operator", 200),
        "city": lambda text: parse_text(text, "city", 100),
        "kind": lambda text: parse_choice(Kind, text, "kind"),
        "sponsor": lambda text: parse_choice(Sponsor, text, "sponsor"),
        "status": lambda text: parse_choice(Status, text, "status"),
        "confidence": lambda text: parse_choice(Confidence, text, "confidence"),
        "announced": past_day,
        "online": parse_period,
        "power_mw": parse_power,
        "parent": lambda text: parse_id(text, "parent"),
        "notes": lambda text: parse_text(text, "notes", 10_000, one_line=False),
    }


def read_entry(
    raw: Mapping[str, object], catalogue: Catalogue, lots: Sequence[Mapping[str, object]] | None = None
) -> EntryInput:
    """Read an entry from text fields, as typed on the command line or read from a file.

    Every field is checked; all problems are raised together as :class:`InvalidInput`.
    Keys: name, country, scope, id, operator, city, kind, sponsor, parent, status,
    confidence, announced, online, chips, vendor, model, qualifier, power_mw, sources (a
    list, or text joined by " | "), notes. The chip lot is read from lot, chips, vendor,
    model and qualifier; ``lots`` gives several, one mapping each.
    """
    read = _FieldReader(raw)
    fields = entry_fields(catalogue)
    name = read.required("name", fields["name"], "is empty; every entry needs a name")
    country = read("country", fields["country"])
    scope = read("scope", fields["scope"])
    lot_readers = [read] if lots is None else [_FieldReader(lot, read.problems) for lot in lots]
    entry_lots = tuple(lot for reader in lot_readers for lot in _read_lot(reader, catalogue))
    entry = EntryInput(
        name=name or "",
        country=country,
        scope=scope,
        id=read("id", fields["id"]),
        operator=read("operator", fields["operator"]),
        city=read("city", fields["city"]),
        kind=read("kind", fields["kind"]),
        sponsor=read("sponsor", fields["sponsor"]),
        status=read("status", fields["status"]) or Status.ANNOUNCED,
        confidence=read("confidence", fields["confidence"]),
        announced=read("announced", fields["announced"]),
        online=read("online", fields["online"]),
        power_mw=read("power_mw", fields["power_mw"]),
        parent=read("parent", fields["parent"]),
        lots=entry_lots,
        sources=tuple(read_sources(raw.get("sources"), read.problems)),
        notes=read("notes", fields["notes"]),
    )
    if read.problems:
        raise InvalidInput(read.problems)
    return entry


def place_problem(country: str | None, scope: str | None, kind: Kind | str | None) -> InvalidValue | None:
    """What is wrong with where an entry is: it has a country, or, a programme, a region scope.

    Checked on the entry as it will be stored: a file's row may leave out a column whose
    stored value then stands.
    """
    if scope is None and country is None:
        return InvalidValue(
            "country",
            "is missing; give a country code or name, such as FR (or a region --scope for a programme)",
        )
    if scope is not None and kind != Kind.PROGRAMME:
        return InvalidValue("scope", "is for programmes (kind programme), which may span several countries")
    if scope is not None and country is not None:
        return InvalidValue("scope", "a programme has a country or a scope, not both")
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
    """Read one chip lot (lot, chips, vendor, model, qualifier) from text fields; None when they are all
    empty. Every problem is raised together as :class:`InvalidInput`."""
    read = _FieldReader(raw)
    lots = _read_lot(read, catalogue)
    if read.problems:
        raise InvalidInput(read.problems)
    return lots[0] if lots else None


MAX_LOTS = 10_000


def parse_lot_number(text: str) -> int:
    """A chip lot's number within its entry: 1 to 10,000."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or not 0 < int(cleaned) <= MAX_LOTS:
        raise InvalidValue("lot", f"{text!r} is not a lot number; give a whole number from 1 to {MAX_LOTS:,}")
    return int(cleaned)


def _read_lot(read: _FieldReader, catalogue: Catalogue) -> tuple[LotInput, ...]:
    if not any(read.given(key) for key in ("chips", "vendor", "model", "announced_chips")):
        for key in ("lot", "qualifier", "announced_unit"):
            if read.given(key):
                read.problems.append(InvalidValue(key, "is given without chips; give chips and vendor"))
        return ()
    if not read.given("vendor"):
        read.problems.append(
            InvalidValue("vendor", "is needed with chips; use `unknown` when it was not disclosed")
        )
    if not read.given("chips") and not read.given("announced_chips"):
        read.problems.append(InvalidValue("chips", "is needed with vendor and model; give the chip count"))
    quantity = read("chips", parse_quantity)
    vendor = read("vendor", catalogue.vendor)
    model = read("model", lambda text: catalogue.model(vendor, text)) if vendor else None
    number = read("lot", parse_lot_number)
    qualifier = read("qualifier", parse_qualifier)
    announced = _read_announced(read, catalogue, vendor, model, quantity)
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
        ),
    )


def _read_announced(
    read: _FieldReader, catalogue: Catalogue, vendor: str | None, model: str | None, chips: int | None
) -> tuple[int, Unit] | None:
    """A count announced in superchips, servers or racks (announced_chips and announced_unit),
    checked against the catalogue and against the accelerators given (chips), if any."""
    count = read("announced_chips", lambda text: parse_quantity(text, "announced_chips"))
    unit = read("announced_unit", lambda text: parse_choice(Unit, text, "announced_unit", "unit"))
    if count is None or unit is None:
        if count is not None and not read.given("announced_unit"):
            read.problems.append(InvalidValue("announced_unit", "is missing; give superchip, server or rack"))
        elif not read.given("announced_chips") and read.given("announced_unit") and chips is not None:
            read.problems.append(InvalidValue("announced_chips", "is missing; give the count of that unit"))
        return None
    if vendor is None:
        return None
    try:
        accelerators = catalogue.accelerators(vendor, model, unit, count)
    except InvalidValue as problem:
        read.problems.append(problem)
        return None
    if chips is not None and chips != accelerators:
        read.problems.append(
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


def add_entry(session: Session, entry: EntryInput) -> str:
    """Store a new entry with its lots and sources; returns its id."""
    entry_id = entry.id or slugify(entry.name)
    if not entry_id:
        raise InvalidValue(
            "id", f"cannot make an id from the name {entry.name!r}; give one, such as tokyo-campus"
        )
    existing = session.get(Entry, entry_id)
    if existing is not None:
        raise _taken(entry_id, existing, entry)
    if (problem := place_problem(entry.country, entry.scope, entry.kind)) is not None:
        raise problem
    if entry.parent is not None and (problem := stored_parent_problem(session, entry.parent)) is not None:
        raise problem
    row = Entry(**entry_columns(entry_id, entry))
    row.lots = [
        ChipLot(
            lot=number,
            vendor=lot.vendor,
            model=lot.model,
            quantity=lot.quantity,
            qualifier=lot.qualifier.value,
            announced_quantity=lot.announced[0] if lot.announced else None,
            announced_unit=lot.announced[1].value if lot.announced else None,
        )
        for number, lot in zip(lot_numbers(entry.lots), entry.lots, strict=True)
    ]
    row.sources = [source_for(session, reference) for reference in dict.fromkeys(entry.sources)]
    try:
        with session.begin_nested():  # so that the winner of a race can be read after losing it
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError as error:
        # Another command added the id after the look above, and committed (PostgreSQL; on
        # SQLite the write transaction keeps others out): the same refusal as one after the other.
        if not unique_violation(error, ENTRY_KEY):
            raise
        existing = session.get(Entry, entry_id)
        if existing is None:
            raise
        raise _taken(entry_id, existing, entry) from None
    return entry_id


def _taken(entry_id: str, existing: Entry, entry: EntryInput) -> Conflict:
    hint = "choose another id" if entry.id else "if it is a different one, give it its own --id"
    return Conflict(
        f"id {entry_id!r} is already taken by {existing.name!r}; {hint}", "id" if entry.id else None
    )


def unique_violation(
    error: sa.exc.IntegrityError, key: sa.PrimaryKeyConstraint | sa.UniqueConstraint
) -> bool:
    """Whether ``error`` is a second row with the same ``key`` (a primary key or unique
    constraint), as PostgreSQL (by the constraint's name) or SQLite (by its columns) reports it."""
    original = error.orig
    diagnosis = getattr(original, "diag", None)
    if diagnosis is not None:  # psycopg
        return (
            getattr(original, "sqlstate", None) == UNIQUE_VIOLATION and diagnosis.constraint_name == key.name
        )
    columns = ", ".join(f"{column.table.name}.{column.name}" for column in key.columns)
    return str(original) == f"UNIQUE constraint failed: {columns}"


# The entry table's columns that entry_values gives, in its order.
ENTRY_VALUE_COLUMNS = (
    "id", "name", "operator", "country", "scope", "city", "kind", "sponsor", "status", "confidence",
    "announced_on", "online_start", "online_precision", "power_mw", "parent_id", "notes",
)  # fmt: skip


def entry_values(entry_id: str, entry: EntryInput) -> tuple[object, ...]:
    """The entry table's columns for an entry as read (not its lots, sources or timestamps),
    in :data:`ENTRY_VALUE_COLUMNS` order."""
    online = entry.online
    return (
        entry_id,
        entry.name,
        entry.operator,
        entry.country,
        entry.scope,
        entry.city,
        _value(entry.kind),
        _value(entry.sponsor),
        entry.status.value,
        _value(entry.confidence),
        entry.announced,
        online.start if online else None,
        online.precision.value if online else None,
        entry.power_mw,
        entry.parent,
        entry.notes,
    )


def entry_columns(entry_id: str, entry: EntryInput) -> dict[str, object]:
    """The entry table's columns for an entry as read (not its lots, sources or timestamps)."""
    return dict(zip(ENTRY_VALUE_COLUMNS, entry_values(entry_id, entry), strict=True))


def lot_numbers(lots: Sequence[LotInput]) -> list[int]:
    """The numbers the lots are stored under: their own where given, else 1, 2, 3..."""
    return [lot.number or place for place, lot in enumerate(lots, start=1)]


def similar_entries(session: Session, entry: EntryInput) -> list[str]:
    """Ids of stored entries that may be the same announcement as ``entry``: in the same
    country, with the same operator or a lot of the same chip count (whatever its vendor,
    since one report may name the vendor and another not)."""
    quantities = [lot.quantity for lot in entry.lots]
    same_count = sa.exists().where(ChipLot.entry_id == Entry.id, ChipLot.quantity.in_(quantities))
    same_operator = sa.func.lower(Entry.operator) == entry.operator.lower() if entry.operator else sa.false()
    same_place = Entry.country == entry.country if entry.country else Entry.scope == entry.scope
    query = (
        sa.select(Entry.id)
        .where(same_place, sa.or_(same_count if quantities else sa.false(), same_operator))
        .where(Entry.id.not_in(ancestors(session, entry.parent)))  # its chips are counted within theirs
        .order_by(bytewise(session, Entry.id))
    )
    return list(session.scalars(query))


def ancestors(session: Session, parent: str | None) -> list[str]:
    """The programme an entry is part of, the programme that one is part of, and so on."""
    found: list[str] = []
    while parent is not None and parent not in found:
        found.append(parent)
        parent = session.scalar(sa.select(Entry.parent_id).where(Entry.id == parent))
    return found


def _value(choice: Kind | Sponsor | Confidence | None) -> str | None:
    return choice.value if choice is not None else None


def source_for(session: Session, reference: str) -> Source:
    """The stored source with this URL or citation, created if it is new (another process
    adding the same source at the same moment is no conflict)."""
    query = sa.select(Source).where(Source.reference == reference)
    source = session.scalar(query)
    if source is None:
        session.execute(insert_new(session, Source.__table__, "reference"), [{"reference": reference}])
        source = session.scalar(query)
        assert source is not None
    return source


def add_entry_from_text(session: Session, raw: Mapping[str, object]) -> tuple[str, list[str]]:
    """Read and store one entry given as text fields (see :func:`read_entry`).

    Returns its id and the ids of entries that may be the same announcement.
    """
    problems: list[InvalidValue] = []
    entry = None
    try:
        entry = read_entry(raw, load_catalogue(session))
    except InvalidInput as error:
        problems.extend(error.problems)
    # Where it is, and what it is part of, checked too: every problem is told at once.
    fields = {problem.field for problem in problems}
    if not {"country", "scope", "kind"} & fields:
        text = {key: str(raw.get(key) or "").strip() or None for key in ("country", "scope", "kind")}
        kind = parse_choice(Kind, text["kind"], "kind") if text["kind"] else None
        if problem := place_problem(text["country"], text["scope"], kind):
            problems.append(problem)
    parent = str(raw.get("parent") or "").strip()
    if parent and "parent" not in fields and (problem := stored_parent_problem(session, parent)):
        problems.append(problem)
    if problems or entry is None:
        raise InvalidInput(problems)
    similar = similar_entries(session, entry)
    return add_entry(session, entry), similar


def stored_parent_problem(session: Session, parent: str, entry_id: str | None = None) -> InvalidValue | None:
    """What is wrong with making the stored ``parent`` an entry's programme: it must exist,
    be a programme, and (for the stored entry ``entry_id``) not be that entry or one of its parts.

    The parent's row is locked, so that it cannot stop being a programme, or go, before the
    part is stored (see :func:`entry_for_update`)."""
    lock_entries(session, [parent])
    row = session.get(Entry, parent, populate_existing=True)
    if row is None:
        return InvalidValue("parent", f"no entry has the id {parent!r}")
    if (problem := parent_problem(parent, row.kind)) is not None:
        return problem
    if entry_id is not None and entry_id in ancestors(session, parent):
        return InvalidValue("parent", f"{parent!r} makes {entry_id!r} a part of itself")
    return None


def get_entry(session: Session, entry_id: str) -> Entry:
    """One entry with its lots, sources and history loaded, to read: a command that changes
    it reads it with :func:`entry_for_update`."""
    entry = session.scalar(
        sa.select(Entry)
        .where(Entry.id == entry_id)
        .options(selectinload(Entry.lots), selectinload(Entry.sources), selectinload(Entry.events))
    )
    if entry is None:
        raise NotFound("entry", entry_id)
    return entry


def entry_for_update(session: Session, entry_id: str) -> Entry:
    """One entry with its lots, sources and history, read once its row is locked until the
    transaction ends, and read afresh even if the session holds it already.

    Every command that reads an entry to change it (update, status, remove) reads it here:
    two of them at once then take turns, and the second reads what the first wrote, so that
    the old value each records is the one it replaced. PostgreSQL locks the row (``FOR
    UPDATE``, which also keeps others from adding a chip lot or a status change to it
    meanwhile); on SQLite the write transaction holds the whole database already.
    """
    entry = session.scalar(
        sa.select(Entry)
        .where(Entry.id == entry_id)
        .with_for_update()  # its lots, sources and history are read after it is locked
        .options(selectinload(Entry.lots), selectinload(Entry.sources), selectinload(Entry.events))
        .execution_options(populate_existing=True)
    )
    if entry is None:  # never stored, or removed by the command it waited for
        raise NotFound("entry", entry_id)
    return entry


def lock_entries(session: Session, entry_ids: Iterable[str]) -> None:
    """Lock these entries' rows (those stored) until the transaction ends, in id order, so that
    two commands that lock the same entries never each wait for the other (PostgreSQL)."""
    for entry_id in sorted(set(entry_ids)):
        session.execute(sa.select(Entry.id).where(Entry.id == entry_id).with_for_update())


@dataclass(frozen=True)
class StatusMove:
    """A status change in the order of the days it took effect, with the status it left:
    that of the change before it by day, whenever each was recorded."""

    event: StatusEvent
    from_status: str


def status_moves(events: Iterable[StatusEvent]) -> list[StatusMove]:
    """An entry's status changes in effective order; the first leaves the status the entry
    was added with (what the first change recorded)."""
    ordered = sorted(events, key=lambda event: (event.effective_on, event.id or 0))
    moves: list[StatusMove] = []
    for place, event in enumerate(ordered):
        before = ordered[place - 1].to_status if place else (ordered[0].from_status or event.to_status)
        moves.append(StatusMove(event, before))
    return moves


@dataclass(frozen=True)
class LotDetail:
    """A chip lot with the status and online period that apply to it (its own, or its entry's)."""

    lot: int
    vendor: str
    model: str | None
    chips: int
    status: str
    online: Period | None
    qualifier: Qualifier = Qualifier.EXACT
    announced: tuple[int, Unit] | None = None  # the count as announced, in superchips, servers or racks

    @property
    def as_announced(self) -> str | None:
        """The count as announced, in words: ``18 racks``."""
        if self.announced is None:
            return None
        count, unit = self.announced
        return f"{count:,} {unit.value}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class PartDetail:
    """An entry that is part of a programme, with what it counts in totals."""

    id: str
    name: str
    country: str | None
    status: str
    counted: Amount


@dataclass(frozen=True)
class Counted:
    """What a programme counts in totals: its parts', and what its own lots add to them."""

    parts: Amount
    adds: Amount

    @property
    def total(self) -> Amount:
        return self.parts + self.adds


@dataclass(frozen=True)
class EntryDetail:
    """One entry as ``tracker show`` presents it."""

    entry: Entry
    online: Period | None
    lots: tuple[LotDetail, ...]
    sources: tuple[Source, ...]
    history: tuple[StatusMove, ...] = ()
    parts: tuple[PartDetail, ...] = ()
    counted: Counted | None = None  # for a programme (an entry with parts, or a scope)

    @property
    def chips(self) -> int:
        """All chips of the entry, whatever their status."""
        return sum(lot.chips for lot in self.lots)

    @property
    def amount(self) -> Amount:
        """All chips of the entry, whatever their status, with how exactly they are known."""
        return total(Amount(lot.chips, lot.qualifier) for lot in self.lots)


def entry_detail(session: Session, entry_id: str) -> EntryDetail:
    """An entry with its lots, their effective status and period, sources and history."""
    entry = get_entry(session, entry_id)
    online = period_from_parts(entry.online_start, entry.online_precision)
    lots = tuple(
        LotDetail(
            lot=lot.lot,
            vendor=lot.vendor,
            model=lot.model,
            chips=lot.quantity,
            status=lot.status or entry.status,
            online=period_from_parts(lot.online_start, lot.online_precision) or online,
            qualifier=Qualifier(lot.qualifier),
            announced=(
                (lot.announced_quantity, Unit(lot.announced_unit))
                if lot.announced_quantity is not None and lot.announced_unit is not None
                else None
            ),
        )
        for lot in entry.lots
    )
    # In the export's order, which does not depend on the database's collation.
    sources = tuple(sorted(entry.sources, key=lambda source: source.reference))
    children = session.scalars(
        sa.select(Entry).where(Entry.parent_id == entry.id).order_by(bytewise(session, Entry.id))
    ).all()
    parts: tuple[PartDetail, ...] = ()
    counted = None
    if children or entry.scope is not None:
        cover = coverage(session)
        parts = tuple(
            PartDetail(
                child.id, child.name, child.country or child.scope, child.status, cover.count_of(child.id)
            )
            for child in children
        )
        adds = total(cover.adds(lot.id) for lot in entry.lots)
        counted = Counted(cover.parts.get(entry.id, Amount()), adds)
    return EntryDetail(
        entry=entry,
        online=online,
        lots=lots,
        sources=sources,
        history=tuple(status_moves(entry.events)),
        parts=parts,
        counted=counted,
    )


def remove_entry(session: Session, entry_id: str, note: str | None = None) -> None:
    """Delete an entry with its lots and history, keeping a record of what it was (and
    ``note``, why it went) for ``tracker changes``."""
    text = parse_text(note, "note", 10_000, one_line=False)
    entry = entry_for_update(session, entry_id)
    children = session.scalars(sa.select(Entry.id).where(Entry.parent_id == entry_id)).all()
    if children:
        raise Conflict(f"{entry_id!r} is the programme of {', '.join(children)}; remove or move those first")
    session.add(EntryRemoval(entry_id=entry.id, summary=entry_summary(entry), note=text))
    session.delete(entry)
    session.flush()


def entry_summary(entry: Entry, suffix: str = "") -> str:
    """An entry in a few words: name, country or scope, chips (``suffix`` after the count)."""
    amount = total(Amount(lot.quantity, Qualifier(lot.qualifier)) for lot in entry.lots)
    count = amount.qualifier.phrase(f"{amount.chips:,} chips") if entry.lots else "no chip count"
    part = f", part of {entry.parent_id} (counted once within it)" if entry.parent_id else ""
    return f"{entry.name}, {entry.country or entry.scope}, {count}{suffix}{part}"


@dataclass(frozen=True)
class EntryRow:
    """One line of ``tracker list``."""

    id: str
    name: str
    country: str | None
    operator: str | None
    status: str
    announced: dt.date | None
    online: Period | None
    vendors: str | None
    chips: int | None = field(default=None)
    qualifier: Qualifier = Qualifier.EXACT
    kind: str | None = None
    parent: str | None = None
    scope: str | None = None


def list_entries(session: Session, filters: Filters) -> Iterator[EntryRow]:
    """Entries matching the filters, by id, with their chip totals (all lots, any status)."""
    lots = (
        sa.select(
            ChipLot.entry_id,
            sa.func.sum(ChipLot.quantity).label("chips"),
            sa.func.count(sa.distinct(ChipLot.vendor)).label("vendor_count"),
            sa.func.min(ChipLot.vendor).label("vendor"),
            qualifier_bits(ChipLot.qualifier).label("qualifiers"),
        )
        .group_by(ChipLot.entry_id)
        .subquery()
    )
    query = (
        sa.select(Entry, lots.c.chips, lots.c.vendor_count, lots.c.vendor, lots.c.qualifiers)
        .outerjoin(lots, lots.c.entry_id == Entry.id)
        .where(*filters.entry_conditions())
        .order_by(bytewise(session, Entry.id))
    )
    for entry, chips, vendor_count, vendor, qualifiers in session.execute(query):
        vendors = vendor if vendor_count == 1 else (f"{vendor_count} vendors" if vendor_count else None)
        yield EntryRow(
            id=entry.id,
            name=entry.name,
            country=entry.country,
            operator=entry.operator,
            status=entry.status,
            announced=entry.announced_on,
            online=period_from_parts(entry.online_start, entry.online_precision),
            vendors=vendors,
            chips=chips,
            qualifier=Qualifier.of_bits(qualifiers),
            kind=entry.kind,
            parent=entry.parent_id,
            scope=entry.scope,
        )
