"""Status changes: recorded on the day they took effect, with their source; the entry's status
is that of its latest change by day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tracker.errors import InvalidValue, Problems
from tracker.model.periods import past_day
from tracker.model.tables import EntryVerification, StatusEvent, utc_now
from tracker.model.values import parse_text
from tracker.model.vocabulary import Status, parse_choice
from tracker.service.checks import status_problems
from tracker.service.entries import entry_for_update, grade_sources, read_grade, source_for
from tracker.service.reading import read_sources


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
    # The entry's lots that keep a status of their own, other than the entry's now: (lot, status).
    own_statuses: tuple[tuple[int, str], ...] = ()


def change_status(
    session: Session,
    entry_id: str,
    new_status: str,
    on: str,
    *,
    source: str | None = None,
    unsourced: bool = False,
    note: str | None = None,
    grade: str | None = None,
) -> StatusChange:
    """Append a status change to an entry's history, effective on the day ``on``.

    A change needs a source, unless ``unsourced`` says it is recorded without one. The
    entry's status becomes that of its latest change by effective date, so a change
    recorded late for an earlier day leaves a later one in force. What the change makes
    look wrong in the history (:func:`~tracker.service.checks.status_problems`) is returned
    with it, to warn of.
    """
    problems = Problems()
    status = problems.read(lambda: parse_choice(Status, new_status, "new_status", "status"))
    day = problems.read(lambda: past_day(on, "on"))
    references = list(read_sources([source] if source is not None else [], problems.found))
    if not references and not unsourced and source is None:
        problems.add(
            InvalidValue(
                "source", "is needed for a status change; give one, or --unsourced to record it without"
            )
        )
    if references and unsourced:
        problems.add(InvalidValue("unsourced", "goes without --source; give one or the other"))
    text = problems.read(lambda: parse_text(note, "note", 10_000, one_line=False))
    graded = problems.read(lambda: read_grade(grade, references or [source]))
    problems.check()
    assert status is not None
    assert day is not None
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
    grade_sources(session, references, graded)
    if references and all(known.reference != references[0] for known in entry.sources):
        entry.sources.append(event.source)  # type: ignore[arg-type]
    session.flush()
    latest = max(entry.events, key=_order)
    entry.status = latest.to_status
    entry.updated_at = utc_now()
    session.flush()
    added = tuple(found for found in status_problems(entry.events, entry.announced_on) if found not in known)
    own = tuple(
        (lot.lot, lot.status) for lot in sorted(entry.lots, key=lambda lot: lot.lot)
        if lot.status is not None and lot.status != entry.status
    )  # fmt: skip
    return StatusChange(entry_id, from_status, status.value, day, entry.status, added, own)


def _order(event: StatusEvent) -> tuple[dt.date, int]:
    return (event.effective_on, event.id or 0)


def verify_entry(
    session: Session, entry_id: str, on: str, *, source: str | None = None, grade: str | None = None
) -> EntryVerification:
    """Record that the entry was checked on the day ``on`` (on ``source``, if given, which
    joins its sources): `tracker check --stale-after` counts from its latest such day."""
    problems = Problems()
    day = problems.read(lambda: past_day(on, "on"))
    references = list(read_sources([source] if source is not None else [], problems.found))
    graded = problems.read(lambda: read_grade(grade, references or [source]))
    problems.check()
    assert day is not None
    entry = entry_for_update(session, entry_id)
    cited = source_for(session, references[0]) if references else None
    verification = EntryVerification(verified_on=day, source=cited)
    entry.verifications.append(verification)
    if cited is not None and all(known.reference != cited.reference for known in entry.sources):
        entry.sources.append(cited)
    grade_sources(session, references, graded)
    session.flush()
    return verification
