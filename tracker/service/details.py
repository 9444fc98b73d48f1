"""Entries as commands show them: one in full (``tracker show``), or many in a list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.countries import country_name
from tracker.model.fields import ENTRY_FIELDS, Stored
from tracker.model.periods import Period, period_from_parts
from tracker.model.tables import ChipLot, Entry, Operator, Source, StatusEvent
from tracker.model.vocabulary import Choice, Qualifier, Unit
from tracker.service.database import bytewise
from tracker.service.entries import get_entry
from tracker.service.filters import Filters
from tracker.service.programmes import Amount, coverage, qualifier_bits, total
from tracker.service.tables import raw_value

LOT_COLUMNS = ("lot", "vendor", "model", "chips", "status", "online")  # of a lot, as show gives it


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
    operator_hq: str | None = None  # the country of its operator's headquarters
    # Its edits (field, old, new, when, source) and verifications (day, source), oldest first.
    edits: tuple[tuple[str, str | None, str | None, dt.datetime, str | None], ...] = ()
    verifications: tuple[tuple[dt.date, str | None], ...] = ()

    def __repr__(self) -> str:
        return f"<EntryDetail {self.entry.id}: {self.entry.name}, {self.chips:,} chips>"

    @property
    def chips(self) -> int:
        """All chips of the entry, whatever their status."""
        return sum(lot.chips for lot in self.lots)

    @property
    def amount(self) -> Amount:
        """All chips of the entry, whatever their status, with how exactly they are known."""
        return total(Amount(lot.chips, lot.qualifier) for lot in self.lots)

    def record(self) -> dict[str, Any]:
        """The entry with its lots, parts, sources and history as plain values, by name, ready
        for JSON (what ``tracker show --format json`` gives: numbers, text, dates and periods as
        ISO text): its fields as :mod:`tracker.model.fields` declares them."""
        entry = self.entry
        record: dict[str, Any] = {}
        for entry_field in ENTRY_FIELDS:
            if entry_field.stored is Stored.LIST:
                continue
            value = entry_field.load([getattr(entry, column) for column in entry_field.table_columns])
            record[entry_field.name] = value.value if isinstance(value, Choice) else value
            if entry_field.name == "country":
                record["country_name"] = country_name(entry.country) if entry.country else None
            if entry_field.name == "operator":
                record["operator_hq"] = self.operator_hq
        record.update(
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            chips=self.chips,
            lots=[
                {
                    **{
                        column: getattr(lot, column)
                        for column in ("lot", "vendor", "model", "chips", "status", "online")
                    },
                    "qualifier": lot.qualifier.value,
                    "announced_chips": lot.announced[0] if lot.announced else None,
                    "announced_unit": lot.announced[1].value if lot.announced else None,
                }
                for lot in self.lots
            ],
            parts=[
                {
                    "id": part.id,
                    "name": part.name,
                    "country": part.country,
                    "status": part.status,
                    "counted": part.counted.chips,
                    "qualifier": part.counted.qualifier.value,
                }
                for part in self.parts
            ],
            counted=None
            if self.counted is None
            else {
                "chips": self.counted.total.chips,
                "qualifier": self.counted.total.qualifier.value,
                "parts": self.counted.parts.chips,
                "adds": self.counted.adds.chips,
            },
            sources=[
                {
                    "reference": s.reference,
                    "publisher": s.publisher,
                    "published_on": s.published_on,
                    "grade": s.grade,
                }
                for s in self.sources
            ],
            edits=[
                {"field": name, "old": old, "new": new, "changed_at": when, "source": source}
                for name, old, new, when, source in self.edits
            ],
            verifications=[{"verified_on": day, "source": source} for day, source in self.verifications],
            history=[
                {
                    "effective_on": move.event.effective_on,
                    "from": move.from_status,
                    "to": move.event.to_status,
                    "source": move.event.source.reference if move.event.source else None,
                    "note": move.event.note,
                }
                for move in self.history
            ],
        )
        return _plain(record)


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
    operator = session.get(Operator, entry.operator) if entry.operator else None
    return EntryDetail(
        entry=entry,
        online=online,
        lots=lots,
        sources=sources,
        history=tuple(status_moves(entry.events)),
        parts=parts,
        counted=counted,
        operator_hq=operator.hq_country if operator is not None else None,
        edits=tuple(
            (
                change.field,
                change.old_value,
                change.new_value,
                change.changed_at,
                change.source.reference if change.source else None,
            )
            for change in entry.changes
        ),
        verifications=tuple(
            (check.verified_on, check.source.reference if check.source else None)
            for check in entry.verifications
        ),
    )


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


def entry_sources(session: Session, entry_id: str) -> list[Source]:
    """The sources of an entry, in the export's order."""
    return sorted(get_entry(session, entry_id).sources, key=lambda source: source.reference)


def _plain(value: Any) -> Any:
    """A record's values as JSON takes them (:func:`~tracker.service.tables.raw_value`)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return raw_value(value)
