"""``tracker update``: an entry's fields and chip lots edited, every change kept with its old
and new value, the time, and its source."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import InvalidValue
from tracker.model.cells import cell_text
from tracker.model.fields import ENTRY_FIELDS, FIELDS, EntryField, Stored, with_first_online
from tracker.model.periods import Period, period_from_parts
from tracker.model.tables import ChipLot, Entry, EntryChange, utc_now
from tracker.model.values import parse_quantity
from tracker.model.vocabulary import Kind, Qualifier, Status, Unit, parse_choice, parse_qualifier
from tracker.service.catalogue import Catalogue, load_catalogue
from tracker.service.entries import (
    entry_for_update,
    grade_sources,
    lock_entries,
    lot_row,
    read_grade,
    source_for,
    stored_parent_problem,
)
from tracker.service.operators import operator_names
from tracker.service.reading import (
    LotInput,
    Problems,
    parse_lot_number,
    parse_lot_online,
    parse_lot_status,
    place_problem,
    read_sources,
)

# The fields `tracker update` changes: every field of an entry but its id, its status (which
# changes through `tracker status`, on a day) and its sources (which are added).
UPDATABLE: dict[str, EntryField] = {
    field.name: field for field in ENTRY_FIELDS if field.updatable and field.stored is not Stored.LIST
}
REQUIRED = ("name",)
T = TypeVar("T")
# What `lot` may give: the lot's number, its chips and what they are, its own status and period.
LOT_KEYS = ("lot", "chips", "unit", "vendor", "model", "qualifier", "lot_status", "lot_online")


@dataclass(frozen=True)
class FieldChange:
    """One field changed by an update, as the export writes its values."""

    field: str
    old: str
    new: str


def update_entry(
    session: Session,
    entry_id: str,
    values: Mapping[str, str | None],
    sources: Sequence[str] = (),
    lot: Mapping[str, str | None] | None = None,
    grade: str | None = None,
) -> list[FieldChange]:
    """Edit an entry's fields and add sources, keeping each change (field, old and new value,
    when, and the first source given) in its history. An empty value clears an optional
    field. ``lot`` (:data:`LOT_KEYS`: ``lot`` its number, and what to change of it) edits or
    adds a chip lot. Returns the changes; none when every value was already so."""
    given = {field: value for field, value in values.items() if value is not None}
    unknown = sorted(set(given) - set(UPDATABLE))
    if unknown:
        raise InvalidValue(unknown[0], "cannot be changed with update")
    lot_given = {key: value for key, value in (lot or {}).items() if value is not None}
    if set(lot_given) - set(LOT_KEYS):
        raise InvalidValue(sorted(set(lot_given) - set(LOT_KEYS))[0], "is not a field of a chip lot")
    if not given and not sources and not set(lot_given) - {"lot"}:
        raise InvalidValue("argument", "give a field to change, such as --chips, or a --source to add")
    catalogue = load_catalogue(session)
    problems = Problems()
    new_values: dict[str, object] = {}
    for name, text in given.items():
        if not text.strip():
            if name in REQUIRED:
                problems.add(InvalidValue(name, "cannot be emptied; every entry has one"))
            new_values[name] = None
        else:
            new_values[name] = problems.read(functools.partial(UPDATABLE[name].read, text, catalogue))
    references = list(dict.fromkeys(read_sources(list(sources), problems.found)))
    graded = problems.read(lambda: read_grade(grade, references or list(sources)))
    problems.check()
    if new_values.get("operator"):  # before the entries are locked: every command takes them in this order
        operator = str(new_values["operator"])
        new_values["operator"] = operator_names(session, [operator])[operator]
    parent = new_values.get("parent")
    if parent is not None:  # the entry and its new programme, in the order every command locks them
        lock_entries(session, [entry_id, str(parent)])
    entry = entry_for_update(session, entry_id)
    _check_place(session, entry, new_values)
    if parent is not None and (wrong := stored_parent_problem(session, str(parent), entry_id)):
        raise wrong
    source = source_for(session, references[0]) if references else None
    _with_first_online(entry, new_values)
    changes: list[FieldChange] = []
    if set(lot_given) - {"lot"}:
        changes.extend(_update_lot(catalogue, entry, lot_given))
    for name, value in new_values.items():
        field = UPDATABLE[name]
        old = field.load([getattr(entry, column) for column in field.table_columns])
        if field.text(old) == field.text(value):
            continue
        for column, stored in zip(field.table_columns, field.store(value), strict=True):
            setattr(entry, column, stored)
        changes.append(FieldChange(name, field.text(old), field.text(value)))
    known = {stored.reference for stored in entry.sources}
    for reference in references:
        if reference not in known:
            entry.sources.append(source_for(session, reference))
            changes.append(FieldChange("sources", "", reference))
    grade_sources(session, references, graded)
    for change in changes:
        entry.changes.append(
            EntryChange(
                field=change.field, old_value=change.old or None, new_value=change.new or None, source=source
            )
        )
    if changes:
        entry.updated_at = utc_now()
    session.flush()
    return changes


def _with_first_online(entry: Entry, new_values: dict[str, object]) -> None:
    """Give ``new_values`` the entry's first announced online period where the update leaves it
    without one and its online period is set (see :func:`~tracker.model.fields.with_first_online`),
    so that it is stored, and kept in the history, as any edit is."""
    periods = ("online", "first_online")
    after = {
        name: new_values[name]
        if name in new_values
        else FIELDS[name].load([getattr(entry, column) for column in FIELDS[name].table_columns])
        for name in periods
    }
    settled = with_first_online(after)["first_online"]
    if settled is not after["first_online"]:
        new_values["first_online"] = settled


def _check_place(session: Session, entry: Entry, new_values: Mapping[str, object]) -> None:
    """After the update, the entry still has a country, or, a programme, a region scope; and
    an entry that has parts is still a programme."""
    country, scope, kind = (
        new_values[name] if name in new_values else getattr(entry, name)
        for name in ("country", "scope", "kind")
    )
    problem = place_problem(
        None if country is None else str(country),
        None if scope is None else str(scope),
        None if kind is None else str(kind),
        changed=set(new_values),
        entry_id=entry.id,
    )
    if problem is not None:
        raise problem
    if "kind" in new_values and kind != Kind.PROGRAMME:
        parts = session.scalars(
            sa.select(Entry.id).where(Entry.parent_id == entry.id).order_by(Entry.id)
        ).all()
        if parts:
            raise InvalidValue(
                "kind", f"{entry.id} has parts ({', '.join(parts)}); only a programme has parts"
            )


def _update_lot(catalogue: Catalogue, entry: Entry, given: Mapping[str, str]) -> list[FieldChange]:
    """Edit the chip lot numbered ``given["lot"]`` (the only one, when the entry has one), or
    add it; returns what changed, field by field."""
    lots = {lot.lot: lot for lot in entry.lots}
    if "lot" in given:
        number = parse_lot_number(given["lot"])
    elif len(lots) <= 1:
        number = next(iter(lots), 1)
    else:
        raise InvalidValue(
            "lot", f"{entry.id} has {len(lots)} chip lots ({', '.join(map(str, lots))}); say which"
        )
    target = lots.get(number)
    if target is None and not {"chips", "vendor", "model"} & set(given):
        if "lot" in given:
            raise InvalidValue("lot", f"{entry.id} has no lot {number}; give --chips and --vendor to add it")
        first = next(key for key in ("qualifier", "lot_status", "lot_online") if key in given)
        raise InvalidValue(first, "is given without chips; give chips and vendor")
    vendor = catalogue.vendor(given["vendor"]) if "vendor" in given else (target.vendor if target else None)
    if vendor is None:
        raise InvalidValue("vendor", "is needed for a new chip lot; use `unknown` when it was not disclosed")
    if "model" in given:
        model = catalogue.model(vendor, given["model"]) if given["model"].strip() else None
    else:
        model = target.model if target and target.vendor == vendor else None
    quantity, announced = _lot_count(catalogue, target, vendor, model, given)
    if "qualifier" in given:  # empty: back to exact
        qualifier = parse_qualifier(given["qualifier"]) if given["qualifier"].strip() else Qualifier.EXACT
    else:
        qualifier = Qualifier(target.qualifier) if target is not None else Qualifier.EXACT
    status = _own(
        given, "lot_status", Status(target.status) if target and target.status else None, parse_lot_status
    )
    online = _own(given, "lot_online", _lot_period(target), parse_lot_online)
    new = LotInput(vendor, model, quantity, number, qualifier, announced, status, online)
    if target is None:
        entry.lots.append(lot_row(number, new))
        added = f"{qualifier.phrase(str(quantity))} {vendor} {model or ''}".strip()
        return [FieldChange(f"lot {number}", "", added)]
    stored = lot_row(number, new)
    changes = [
        FieldChange(
            f"lot {number} {field}", cell_text(getattr(target, column)), cell_text(getattr(stored, column))
        )
        for field, column in _LOT_FIELDS
        if getattr(target, column) != getattr(stored, column)
    ]
    old_online, new_online = _lot_period(target), new.online
    if old_online != new_online:
        changes.append(FieldChange(f"lot {number} online", cell_text(old_online), cell_text(new_online)))
    for column in (*(column for _, column in _LOT_FIELDS), "online_start", "online_precision"):
        setattr(target, column, getattr(stored, column))
    return changes


# A lot's fields as its history names them, and their columns (its period apart).
_LOT_FIELDS = (
    ("vendor", "vendor"),
    ("model", "model"),
    ("chips", "quantity"),
    ("qualifier", "qualifier"),
    ("announced_chips", "announced_quantity"),
    ("announced_unit", "announced_unit"),
    ("status", "status"),
)


def _lot_period(lot: ChipLot | None) -> Period | None:
    return None if lot is None else period_from_parts(lot.online_start, lot.online_precision)


def _own(given: Mapping[str, str], key: str, stored: T | None, parse: Callable[[str], T]) -> T | None:
    """A lot's own status or period: as given (empty: none, so that its entry's applies), else
    as stored."""
    if key not in given:
        return stored
    return parse(given[key]) if given[key].strip() else None


def _lot_count(
    catalogue: Catalogue, target: ChipLot | None, vendor: str, model: str | None, given: Mapping[str, str]
) -> tuple[int, tuple[int, Unit] | None]:
    """A lot's accelerators, and its count as announced where that was of superchips, servers
    or racks: --chips counts the --unit (GPUs by default, which leaves no announced count); a
    lot announced in racks keeps its count of racks through a change of model."""
    unit = parse_choice(Unit, given["unit"], "unit") if given.get("unit", "").strip() else Unit.GPU
    if "chips" in given:
        count = parse_quantity(given["chips"])
    elif "unit" in given:
        raise InvalidValue("unit", "is given without --chips; give the count of that unit")
    elif target is not None and target.announced_quantity is not None and target.announced_unit:
        count, unit = target.announced_quantity, Unit(target.announced_unit)
        try:  # the same racks of another model
            return catalogue.accelerators(vendor, model, unit, count), (count, unit)
        except InvalidValue as problem:
            raise InvalidValue(
                "model",
                f"lot {target.lot} was announced as {count:,} {unit.value}s, and {problem.message}; "
                "give --chips (and --unit) for the new model",
            ) from None
    elif target is not None:
        return target.quantity, None
    else:
        raise InvalidValue("chips", "is needed for a new chip lot; give the chip count")
    quantity = catalogue.accelerators(vendor, model, unit, count)
    return quantity, None if unit is Unit.GPU else (count, unit)
