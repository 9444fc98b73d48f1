"""Storing, finding and removing entries and their chip lots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tracker.errors import Conflict, InvalidInput, InvalidValue, NotFound
from tracker.model.fields import FIELD_COLUMNS, stored_values
from tracker.model.names import slugify
from tracker.model.tables import ChipLot, Entry, EntryRemoval, Source, StatusEvent
from tracker.model.values import parse_text
from tracker.model.vocabulary import Grade, Kind, Qualifier, parse_choice
from tracker.service.catalogue import load_catalogue
from tracker.service.database import bytewise, insert_new
from tracker.service.operators import operator_names
from tracker.service.programmes import Amount, total
from tracker.service.reading import (
    EntryInput,
    LotInput,
    lot_numbers,
    parent_problem,
    place_problem,
    read_entry,
)

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for a duplicate key
# An entry's lots, sources and history with theirs, loaded with it: what it is read for is
# often used once its session has ended (the Python API returns it).
_WHOLE_ENTRY = (
    selectinload(Entry.lots),
    selectinload(Entry.sources),
    selectinload(Entry.events).selectinload(StatusEvent.source),
)
ENTRY_KEY = cast(sa.Table, Entry.__table__).primary_key


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
    if entry.values["operator"]:
        operator = entry.values["operator"]
        entry = entry.replace(operator=operator_names(session, [operator])[operator])
    row = Entry(**entry_columns(entry_id, entry))
    row.lots = [lot_row(number, lot) for number, lot in zip(lot_numbers(entry.lots), entry.lots, strict=True)]
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


def entry_values(entry_id: str, entry: EntryInput) -> tuple[object, ...]:
    """The entry table's columns for an entry as read (not its lots, sources or timestamps),
    in :data:`~tracker.model.fields.FIELD_COLUMNS` order."""
    return stored_values({**entry.values, "id": entry_id})


def entry_columns(entry_id: str, entry: EntryInput) -> dict[str, object]:
    """The entry table's columns for an entry as read (not its lots, sources or timestamps)."""
    return dict(zip(FIELD_COLUMNS, entry_values(entry_id, entry), strict=True))


def lot_row(number: int, lot: LotInput) -> ChipLot:
    """A chip lot as stored."""
    return ChipLot(
        lot=number,
        vendor=lot.vendor,
        model=lot.model,
        quantity=lot.quantity,
        qualifier=lot.qualifier.value,
        announced_quantity=lot.announced[0] if lot.announced else None,
        announced_unit=lot.announced[1].value if lot.announced else None,
        status=lot.status.value if lot.status else None,
        online_start=lot.online.start if lot.online else None,
        online_precision=lot.online.precision.value if lot.online else None,
    )


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


def read_grade(text: str | None, references: Iterable[object]) -> Grade | None:
    """The grade given to a command's sources (``--grade``), which needs a source to grade."""
    if text is None:
        return None
    grade = parse_choice(Grade, text, "grade")
    if not any(references):
        raise InvalidValue("grade", "goes with --source: it grades the sources given")
    return grade


_REGRADED = "tracker.sources.regraded"  # the session's record of grades changed


def grade_sources(session: Session, references: Iterable[str], grade: Grade | None) -> None:
    """Give these sources a grade of trust (the last one given is theirs); one graded
    otherwise before is told of (:func:`regraded`)."""
    if grade is None:
        return
    for reference in dict.fromkeys(references):
        source = source_for(session, reference)
        if source.grade is not None and source.grade != grade.value:
            session.info.setdefault(_REGRADED, []).append((reference, source.grade, grade.value))
        source.grade = grade.value
    session.flush()


def regraded(session: Session) -> list[str]:
    """What this session's commands changed of sources' grades, one line each."""
    return [
        f"source {reference} was graded {old}, and is now {new}"
        for reference, old, new in session.info.get(_REGRADED, [])
    ]


def add_entry_from_text(
    session: Session, raw: Mapping[str, object], grade: str | None = None
) -> tuple[str, list[str]]:
    """Read and store one entry given as text fields (see :func:`read_entry`), its sources
    given ``grade``.

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
    try:
        graded = read_grade(grade, entry.sources if entry is not None else [raw.get("sources")])
    except InvalidValue as problem:
        problems.append(problem)
    if problems or entry is None:
        raise InvalidInput(problems)
    similar = similar_entries(session, entry)
    new_id = add_entry(session, entry)
    grade_sources(session, entry.sources, graded)
    return new_id, similar


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
    entry = session.scalar(sa.select(Entry).where(Entry.id == entry_id).options(*_WHOLE_ENTRY))
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
        .options(*_WHOLE_ENTRY)
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
