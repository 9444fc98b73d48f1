"""The API's methods on entries: add, update, record a status, remove, show, and their sources."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from tracker.api.base import Database, warn
from tracker.api.values import LOT_OPTIONS, Given, as_text, as_texts, entry_fields
from tracker.errors import InvalidValue
from tracker.service.tables import Table

# The modules of each command are loaded when it is called: a command loads only its own.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.service.details import EntryDetail
    from tracker.service.status import StatusChange
    from tracker.service.updates import FieldChange


def _notices(session: Session) -> list[str]:
    """What a person should know of what a command's session did besides its change: sources
    it graded otherwise than before, operators it made from names not known yet."""
    from tracker.service.entries import regraded
    from tracker.service.operators import created, new_operators_warning

    made = new_operators_warning(created(session))
    return [*regraded(session), *([made] if made is not None else [])]


class Entries(Database):
    """Adding and changing entries, and reading one."""

    def add(self, name: str, *, grade: str | None = None, **options: Given) -> str:
        """Add an entry; returns its id. ``options``: the entry's fields (``country``,
        ``scope``, ``id``, ``operator``, ``city``, ``kind``, ``sponsor``, ``status``,
        ``confidence``, ``announced``, ``online``, ``power_mw``, ``parent``, ``source`` (one
        or a list), ``note``, and any field declared since), and its chip lot: ``chips``,
        ``vendor``, ``model``, ``qualifier``, ``unit`` (what ``chips`` counts: gpu,
        superchip, server or rack). ``grade``: how far its sources can be trusted: primary,
        press or secondary. Warns (:class:`TrackerWarning`) when it looks like an entry
        already stored, or lies outside its programme's country or scope, and of an operator
        not known before (recorded as a new one, without a headquarters country)."""
        from tracker.service.checks import outside_programme
        from tracker.service.entries import add_entry_from_text

        raw = entry_fields(options, lot_options=LOT_OPTIONS)
        raw["name"] = name
        unit = raw.pop("unit", None)
        units = unit if isinstance(unit, list) else [] if unit is None else [unit]
        if any(not text.strip() for text in units):
            raise InvalidValue("unit", "is empty; give gpu, superchip, server or rack")
        if units:  # chips counts the units: the service reads it as the count announced
            raw["announced_chips"], raw["announced_unit"] = raw.pop("chips", None), unit
        with self.session(writes=True) as session:
            new_id, similar = add_entry_from_text(session, raw, as_text(grade))
            outside = outside_programme(session, new_id)
            notices = _notices(session)
        for notice in notices:
            warn(notice)
        if outside:
            warn(f"{new_id} {outside}; its chips count there, and its programme adds less")
        if similar:
            place = "country" if raw.get("country") else "scope"
            warn(
                f"{new_id} may be the same announcement as {', '.join(similar)} (same {place}, and the same "
                "operator or chip count); if so, remove one, or the chips count twice"
            )
        return new_id

    def update(self, entry_id: str, *, grade: str | None = None, **options: Given) -> list[FieldChange]:
        """Edit an entry; returns what changed, each field with its old and new value (none
        when every value was so already). ``options``: its fields as for :meth:`add` (an
        empty string clears one; ``source`` adds sources), and a chip lot's: ``lot`` (which
        one: needed when it has several; a new number adds one), ``chips``, ``unit``,
        ``vendor``, ``model``, ``qualifier``, and, with ``lot``, ``status`` and ``online``,
        the lot's own (its entry's status changes through :meth:`status`). ``grade``: that of
        the sources given (primary, press or secondary)."""
        from tracker.service.checks import outside_programme
        from tracker.service.updates import update_entry

        lot_keys: tuple[str, ...] = ("lot", "chips", "unit", "vendor", "model", "qualifier")
        if options.get("lot") is not None:
            lot_keys += ("status", "online")
        elif options.get("status") is not None:
            raise InvalidValue("status", "changes with `tracker status`, on a day; with --lot, a lot's own")
        raw = entry_fields(options, lot_options=lot_keys, updating=True)
        lot = {
            ("lot_" + key if key in ("status", "online") else key): raw.pop(key)
            for key in lot_keys
            if key in raw
        }
        sources = raw.pop("sources", [])
        with self.session(writes=True) as session:
            changes = update_entry(session, entry_id, raw, as_texts(sources), lot, as_text(grade))
            outside = outside_programme(session, entry_id)
            notices = _notices(session)
        for notice in notices:
            warn(notice)
        if outside and {"parent", "country", "scope"} & {change.field for change in changes}:
            warn(f"{entry_id} {outside}; its chips count there, and its programme adds less")
        return changes

    def status(
        self,
        entry_id: str,
        new_status: str,
        *,
        on: str | dt.date,
        source: str | None = None,
        unsourced: bool = False,
        note: str | None = None,
        grade: str | None = None,
    ) -> StatusChange:
        """Record a status change on the day it took effect, with its source (or
        ``unsourced``) and the source's ``grade``; warns of what it makes `tracker check` list."""
        from tracker.service.status import change_status

        with self.session(writes=True) as session:
            day = str(as_text(on))
            change = change_status(
                session,
                entry_id,
                new_status,
                day,
                source=source,
                unsourced=unsourced,
                note=note,
                grade=as_text(grade),
            )
            notices = _notices(session)
        for notice in notices:
            warn(notice)
        for problem in change.problems:
            warn(f"{entry_id} {problem}; `tracker check` lists it")
        for lot, own in change.own_statuses:
            warn(
                f"{entry_id} is {change.current}, but its lot {lot} keeps a status of its own, {own}, "
                f'and counts so (`tracker update {entry_id} --lot {lot} --status ""` gives it its entry\'s)'
            )
        return change

    def verify(
        self, entry_id: str, *, on: str | dt.date, source: str | None = None, grade: str | None = None
    ) -> dt.date:
        """Record that the entry was checked on the day ``on`` (with the ``source`` checked, if
        any, and its ``grade``); returns the day. `tracker check --stale-after` counts from it."""
        from tracker.service.status import verify_entry

        with self.session(writes=True) as session:
            day = verify_entry(
                session, entry_id, str(as_text(on)), source=source, grade=as_text(grade)
            ).verified_on
            notices = _notices(session)
        for notice in notices:
            warn(notice)
        return day

    def remove(self, entry_id: str, *, note: str | None = None) -> EntryDetail:
        """Remove an entry with its lots and history, keeping what it was (and ``note``, why)
        for :meth:`changes`; returns the entry as it was."""
        from tracker.service.details import entry_detail
        from tracker.service.entries import remove_entry

        with self.session(writes=True) as session:
            detail = entry_detail(session, entry_id)
            remove_entry(session, entry_id, note)
        return detail

    def show(self, entry_id: str) -> EntryDetail:
        """One entry in full: fields, chip lots, sources, status history, and for a programme
        its parts and what it counts in totals (``.record()``: as ``--format json``)."""
        from tracker.service.details import entry_detail

        with self.session() as session:
            return entry_detail(session, entry_id)

    def sources(self, entry_id: str | None = None) -> Table:
        """The sources of an entry, each with its grade; without one, every source recorded,
        with the number of entries citing it."""
        from tracker.service.lists import all_sources_table, sources_table

        with self.session() as session:
            return sources_table(session, entry_id) if entry_id is not None else all_sources_table(session)
