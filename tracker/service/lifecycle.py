"""An entry's life: status changes recorded with their date and source, and its sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tracker.errors import InvalidInput, InvalidValue, collected
from tracker.model.cells import cell_text
from tracker.model.countries import parse_country
from tracker.model.periods import Period, parse_period, past_day, period_from_parts
from tracker.model.tables import ChipLot, Entry, EntryChange, EntryRemoval, Source, StatusEvent, utc_now
from tracker.model.values import parse_id, parse_power, parse_quantity, parse_text
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
from tracker.service.checks import status_problems
from tracker.service.entries import (
    SOURCE_SEPARATOR,
    entry_for_update,
    entry_summary,
    get_entry,
    lock_entries,
    parse_lot_number,
    read_sources,
    source_for,
    status_moves,
    stored_parent_problem,
)

T = TypeVar("T")


@dataclass(frozen=True)
class StatusChange:
    """A status change as recorded, and the entry's status once it is."""

    entry_id: str
    from_status: str
    to_status: str
    effective_on: dt.date
    current: str  # the latest change's status: this one, unless a later one is recorded
    # What `tracker check` lists of the entry's status history now and did not before.
    problems: tuple[str, ...] = ()


def change_status(
    session: Session,
    entry_id: str,
    new_status: str,
    on: str,
    *,
    source: str | None = None,
    unsourced: bool = False,
    note: str | None = None,
) -> StatusChange:
    """Append a status change to an entry's history, effective on the day ``on``.

    A change needs a source, unless ``unsourced`` says it is recorded without one. The
    entry's status becomes that of its latest change by effective date, so a change
    recorded late for an earlier day leaves a later one in force. What the change makes
    look wrong in the history (:func:`~tracker.service.checks.status_problems`) is returned
    with it, to warn of.
    """
    problems: list[InvalidValue] = []
    status = collected(problems, lambda: parse_choice(Status, new_status, "new_status", "status"))
    day = collected(problems, lambda: past_day(on, "on"))
    references = list(read_sources([source] if source is not None else [], problems))
    if not references and not unsourced and source is None:
        problems.append(
            InvalidValue(
                "source", "is needed for a status change; give one, or --unsourced to record it without"
            )
        )
    if references and unsourced:
        problems.append(InvalidValue("unsourced", "goes without --source; give one or the other"))
    text = collected(problems, lambda: parse_text(note, "note", 10_000, one_line=False))
    if problems or status is None or day is None:
        raise InvalidInput(problems)
    entry = entry_for_update(session, entry_id)
    known = status_problems(entry.events, entry.announced_on)
    events = sorted(entry.events, key=_order)
    before = [event for event in events if event.effective_on <= day]
    if before:
        from_status = before[-1].to_status
    else:  # the status it was added with: the earliest change's "from", or its status now
        from_status = (events[0].from_status if events else None) or entry.status
    if from_status == status.value:
        raise InvalidValue("new_status", f"{entry_id} is {status.value} already on {day}; nothing to record")
    event = StatusEvent(
        from_status=from_status,
        to_status=status.value,
        effective_on=day,
        source=source_for(session, references[0]) if references else None,
        note=text,
    )
    entry.events.append(event)
    if references and all(known.reference != references[0] for known in entry.sources):
        entry.sources.append(event.source)  # type: ignore[arg-type]
    session.flush()
    latest = max(entry.events, key=_order)
    entry.status = latest.to_status
    entry.updated_at = utc_now()
    session.flush()
    added = tuple(found for found in status_problems(entry.events, entry.announced_on) if found not in known)
    return StatusChange(entry_id, from_status, status.value, day, entry.status, added)


def _order(event: StatusEvent) -> tuple[dt.date, int]:
    return (event.effective_on, event.id or 0)


def entry_sources(session: Session, entry_id: str) -> list[Source]:
    """The sources of an entry, in the export's order."""
    return sorted(get_entry(session, entry_id).sources, key=lambda source: source.reference)


# The fields `tracker update` edits, with how each is read, and the entry attribute it sets.
UPDATABLE: dict[str, tuple[Callable[[str], object], str]] = {
    "name": (lambda text: parse_text(text, "name", 200), "name"),
    "country": (parse_country, "country"),
    "operator": (lambda text: parse_text(text, "operator", 200), "operator"),
    "city": (lambda text: parse_text(text, "city", 100), "city"),
    "kind": (lambda text: parse_choice(Kind, text, "kind").value, "kind"),
    "sponsor": (lambda text: parse_choice(Sponsor, text, "sponsor").value, "sponsor"),
    "confidence": (lambda text: parse_choice(Confidence, text, "confidence").value, "confidence"),
    "announced": (past_day, "announced_on"),
    "online": (parse_period, "online"),
    "power_mw": (parse_power, "power_mw"),
    "notes": (lambda text: parse_text(text, "notes", 10_000, one_line=False), "notes"),
    "parent": (lambda text: parse_id(text, "parent"), "parent_id"),
}
REGION_FIELDS = ("scope",)  # read against the regions stored
REQUIRED = ("name",)


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
) -> list[FieldChange]:
    """Edit an entry's fields and add sources, keeping each change (field, old and new value,
    when, and the first source given) in its history. An empty value clears an optional
    field. ``lot`` (chips, vendor, model, and lot: its number) edits or adds a chip lot.
    Returns the changes; none when every value was already so."""
    problems: list[InvalidValue] = []
    given = {field: value for field, value in values.items() if value is not None}
    unknown = sorted(set(given) - set(UPDATABLE) - set(REGION_FIELDS))
    if unknown:
        raise InvalidValue(unknown[0], "cannot be changed with update")
    lot_given = {key: value for key, value in (lot or {}).items() if value is not None}
    if not given and not sources and not set(lot_given) - {"lot"}:
        raise InvalidValue("argument", "give a field to change, such as --chips, or a --source to add")
    catalogue = load_catalogue(session)
    new_values: dict[str, object] = {}
    for field, text in given.items():
        if not text.strip():
            if field in REQUIRED:
                problems.append(InvalidValue(field, "cannot be emptied; every entry has one"))
            new_values[field] = None
            continue
        try:
            new_values[field] = (
                catalogue.region(text, field) if field in REGION_FIELDS else UPDATABLE[field][0](text)
            )
        except InvalidValue as problem:
            problems.append(problem)
    references = list(dict.fromkeys(read_sources(list(sources), problems)))
    if problems:
        raise InvalidInput(problems)
    parent = new_values.get("parent")
    if parent is not None:  # the entry and its new programme, in the order every command locks them
        lock_entries(session, [entry_id, str(parent)])
    entry = entry_for_update(session, entry_id)
    _check_place(session, entry, new_values)
    if parent is not None and (wrong := stored_parent_problem(session, str(parent), entry_id)):
        raise wrong
    source = source_for(session, references[0]) if references else None
    changes: list[FieldChange] = []
    if set(lot_given) - {"lot"}:
        changes.extend(_update_lot(catalogue, entry, lot_given))
    for field, value in new_values.items():
        attribute = UPDATABLE[field][1] if field in UPDATABLE else field
        old = _current(entry, attribute)
        if cell_text(old) == cell_text(value):
            continue
        _assign(entry, attribute, value)
        changes.append(FieldChange(field, cell_text(old), cell_text(value)))
    known = {stored.reference for stored in entry.sources}
    for reference in references:
        if reference not in known:
            entry.sources.append(source_for(session, reference))
            changes.append(FieldChange("sources", "", reference))
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


def _check_place(session: Session, entry: Entry, new_values: Mapping[str, object]) -> None:
    """After the update, the entry still has a country, or, a programme, a region scope; and
    an entry that has parts is still a programme."""
    country, scope, kind = (
        cast(str | None, new_values[field] if field in new_values else getattr(entry, field))
        for field in ("country", "scope", "kind")
    )
    if country is None and scope is None:
        if "scope" in new_values:
            raise InvalidValue(
                "scope", "cannot be emptied without a --country; every entry has a country or a scope"
            )
        raise InvalidValue("country", "cannot be emptied; every entry has a country, or a programme a scope")
    if scope is not None and kind != Kind.PROGRAMME:
        if "kind" in new_values:
            raise InvalidValue("kind", f"{entry.id} has the scope {scope}; only a programme spans countries")
        raise InvalidValue("scope", "is for programmes (kind programme), which may span several countries")
    if scope is not None and country is not None:
        field = "country" if "country" in new_values and "scope" not in new_values else "scope"
        raise InvalidValue(field, "a programme has a country or a scope, not both")
    if "kind" in new_values and kind != Kind.PROGRAMME:
        parts = session.scalars(
            sa.select(Entry.id).where(Entry.parent_id == entry.id).order_by(Entry.id)
        ).all()
        if parts:
            raise InvalidValue(
                "kind", f"{entry.id} has parts ({', '.join(parts)}); only a programme has parts"
            )


def _current(entry: Entry, attribute: str) -> object:
    if attribute == "online":
        return period_from_parts(entry.online_start, entry.online_precision)
    return getattr(entry, attribute)


def _assign(entry: Entry, attribute: str, value: object) -> None:
    if attribute == "online":
        period = value if isinstance(value, Period) else None
        entry.online_start = period.start if period else None
        entry.online_precision = period.precision.value if period else None
    else:
        setattr(entry, attribute, value)


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
        raise InvalidValue("qualifier", "is given without chips; give chips and vendor")
    vendor = catalogue.vendor(given["vendor"]) if "vendor" in given else (target.vendor if target else None)
    if vendor is None:
        raise InvalidValue("vendor", "is needed for a new chip lot; use `unknown` when it was not disclosed")
    if "model" in given:
        model = catalogue.model(vendor, given["model"]) if given["model"].strip() else None
    else:
        model = target.model if target and target.vendor == vendor else None
    quantity, announced = _lot_count(catalogue, target, vendor, model, given)
    if "qualifier" in given:  # empty: back to exact
        qualifier = parse_qualifier(given["qualifier"]).value if given["qualifier"].strip() else "exact"
    else:
        qualifier = target.qualifier if target is not None else Qualifier.EXACT.value
    count, unit = announced or (None, None)
    if target is None:
        entry.lots.append(
            ChipLot(
                lot=number,
                vendor=vendor,
                model=model,
                quantity=quantity,
                qualifier=qualifier,
                announced_quantity=count,
                announced_unit=unit,
            )
        )
        new = f"{Qualifier(qualifier).phrase(str(quantity))} {vendor} {model or ''}".strip()
        return [FieldChange(f"lot {number}", "", new)]
    changes = [
        FieldChange(f"lot {number} {field}", cell_text(old), cell_text(new))
        for field, old, new in (
            ("vendor", target.vendor, vendor),
            ("model", target.model, model),
            ("chips", target.quantity, quantity),
            ("qualifier", target.qualifier, qualifier),
            ("announced_chips", target.announced_quantity, count),
            ("announced_unit", target.announced_unit, unit),
        )
        if old != new
    ]  # fmt: skip
    target.vendor, target.model, target.quantity, target.qualifier = vendor, model, quantity, qualifier
    target.announced_quantity, target.announced_unit = count, unit
    return changes


def _lot_count(
    catalogue: Catalogue, target: ChipLot | None, vendor: str, model: str | None, given: Mapping[str, str]
) -> tuple[int, tuple[int, str] | None]:
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
            return catalogue.accelerators(vendor, model, unit, count), (count, unit.value)
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
    return quantity, None if unit is Unit.GPU else (count, unit.value)


@dataclass(frozen=True, order=True)
class Change:
    """One thing that changed in the database: an entry added, a field edited, a status move."""

    when: dt.datetime  # when it was recorded (UTC)
    entry_id: str
    what: str  # "added", "status", or the field edited
    old: str | None
    new: str | None
    source: str | None
    order: int = 0  # within one second: additions, status moves, edits, each in recorded order


def changes_since(session: Session, since: str) -> list[Change]:
    """Everything recorded on or after the day ``since`` (UTC), oldest first, with sources:
    entries added (with their chips and sources), fields edited, status moves."""
    day = past_day(since, "since")
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    changes: list[Change] = []
    added = (
        sa.select(Entry)
        .where(Entry.created_at >= start)
        .options(selectinload(Entry.lots), selectinload(Entry.sources))
    )
    for entry in session.scalars(added):
        summary = entry_summary(entry, " now")
        references = SOURCE_SEPARATOR.join(sorted(source.reference for source in entry.sources))
        changes.append(Change(entry.created_at, entry.id, "added", None, summary, references or None))
    moved = sa.select(StatusEvent.entry_id).where(StatusEvent.recorded_at >= start).distinct()
    every = (
        sa.select(StatusEvent)
        .where(StatusEvent.entry_id.in_(moved))
        .options(selectinload(StatusEvent.source))
    )
    by_entry: dict[str, list[StatusEvent]] = {}
    for event in session.scalars(every):
        by_entry.setdefault(event.entry_id, []).append(event)
    for entry_id, events in by_entry.items():
        for move in status_moves(events):  # "from" as the days run, whenever recorded
            event = move.event
            if event.recorded_at < start:
                continue
            cited = event.source.reference if event.source else "(unsourced)"
            new = f"{event.to_status} on {event.effective_on}" + (f" ({event.note})" if event.note else "")
            changes.append(
                Change(event.recorded_at, entry_id, "status", move.from_status, new, cited, event.id)
            )
    edits = (
        sa.select(EntryChange)
        .where(EntryChange.changed_at >= start)
        .options(selectinload(EntryChange.source))
    )
    for edit in session.scalars(edits):
        reference = edit.source.reference if edit.source else None
        changes.append(
            Change(
                edit.changed_at, edit.entry_id, edit.field, edit.old_value, edit.new_value, reference, edit.id
            )
        )
    for removal in session.scalars(sa.select(EntryRemoval).where(EntryRemoval.removed_at >= start)):
        changes.append(
            Change(
                removal.removed_at,
                removal.entry_id,
                "removed",
                removal.summary,
                removal.note,
                None,
                removal.id,
            )
        )
    # Oldest first; within one second: additions, status moves, edits, then removals, each as recorded.
    kinds = {"added": 0, "status": 1, "removed": 3}
    return sorted(changes, key=lambda c: (c.when, c.entry_id, kinds.get(c.what, 2), c.order))
