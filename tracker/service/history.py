"""What changed since a day: entries added, fields edited, status moves and removals, each
with its source, in the order they were recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tracker.model.periods import past_day
from tracker.model.tables import Entry, EntryChange, EntryRemoval, StatusEvent
from tracker.service.details import status_moves
from tracker.service.entries import entry_summary
from tracker.service.reading import SOURCE_SEPARATOR

# Changes recorded at the same moment (those recorded before moments had microseconds, in
# whole seconds, or by two processes at once) go in this order of kinds, then each kind by
# its row's id: an addition's row is its entry, whose id is text.
KIND_RANKS = {"added": 0, "status": 1, "removed": 3}
EDIT_RANK = 2  # a field edited


@dataclass(frozen=True)
class Change:
    """One thing that changed in the database: an entry added, a field edited, a status move,
    an entry removed."""

    when: dt.datetime  # the moment it was recorded (UTC, to the microsecond)
    entry_id: str
    what: str  # "added", "status", "removed", or the field edited
    old: str | None
    new: str | None
    source: str | None
    row: int = 0  # the id of its row of history (none for an addition: its entry's id)

    def recording_order(self) -> tuple[dt.datetime, int, int, str]:
        """Where it comes in the order of recording: by its moment (each record a process
        makes has its own, later than the one before: tracker.model.tables.utc_now), then
        by the kind of change and its row."""
        return (self.when, KIND_RANKS.get(self.what, EDIT_RANK), self.row, self.entry_id)


def changes_since(session: Session, since: str) -> list[Change]:
    """Everything recorded on or after the day ``since`` (UTC), in the order it was recorded
    (:meth:`Change.recording_order`), with sources: entries added (with their chips and
    sources), fields edited, status moves, entries removed."""
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
    return sorted(changes, key=Change.recording_order)
