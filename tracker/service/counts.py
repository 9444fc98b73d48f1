"""The programmes' count kept in the database, so that SQL gives the tracker's figures.

The ``counted_lots`` view and the summary and timeline views over it (migration 0010,
docs/sql.md) count each chip once, as ``tracker summary`` does without filters. A plain lot
counts its chips; what a programme's lot adds beyond its parts comes from a matching
(:mod:`tracker.service.programmes`) that SQL cannot express, so the tracker keeps it in
``programme_lot_count``.

The summary, the timeline and the other totals read it too (:func:`counted`) rather than
work the programmes out again for each query, unless a filter changes what counts as
evidence of a programme's parts (:func:`tracker.service.programmes.evidence`).

It is kept right on every write: triggers on ``entry`` and ``chip_lot`` mark it out of date
(``count_state``) whoever writes, and the tracker counts again before each of its own writes
commits (:func:`recount`). After a write made outside the tracker it stays out of date, and
the views give NULL counts, never stale ones, until the tracker's next write or ``tracker
init``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.tables import ChipLot, CountState, ProgrammeLotCount
from tracker.model.vocabulary import Qualifier
from tracker.service.filters import Filters
from tracker.service.programmes import Amount, Coverage, coverage, evidence, programmes


def hold(session: Session) -> None:
    """On PostgreSQL, take the count's row lock at the start of a write, so that writers
    recount one after the other, each seeing the last one's work (and always lock it first,
    so that two never wait for each other). SQLite's write lock does so already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(CountState.stale).where(CountState.id == 1).with_for_update())
        # The triggers then only note, in a setting of this transaction, that it changed what
        # the count reads: updating count_state at every statement of an import took 100 times
        # as long as the import itself.
        session.execute(sa.select(sa.func.set_config("tracker.writing", "on", True)))


def is_current(session: Session) -> bool:
    """Whether the programmes' count is up to date with every write committed, this one's too."""
    if session.get_bind().dialect.name == "postgresql":
        changed = sa.func.current_setting("tracker.changed", True) == "on"
        either = CountState.stale.is_(True) | sa.func.coalesce(changed, False)
        stale = session.scalar(sa.select(either).where(CountState.id == 1))
        return stale is False
    return session.scalar(sa.select(CountState.stale).where(CountState.id == 1)) is False


def recount(session: Session, *, always: bool = False) -> bool:
    """Count the programmes' lots again where a write marked the count out of date (or
    ``always``); returns whether it did."""
    session.flush()
    if not always and is_current(session):
        return False
    cover = coverage(session)
    session.execute(sa.delete(ProgrammeLotCount))
    rows = [
        {"lot_id": lot_id, "chips": amount.chips, "qualifier": amount.qualifier.value}
        for lot_id, amount in sorted(cover.added.items())
    ]
    if rows:
        session.execute(sa.insert(ProgrammeLotCount), rows)
    if session.get(CountState, 1) is None:  # its one row, deleted by someone: made again
        session.add(CountState(id=1, stale=False))
        session.flush()
    session.execute(sa.update(CountState).where(CountState.id == 1).values(stale=False))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.set_config("tracker.changed", "off", True)))
    return True


def counted(session: Session, filters: Filters | None = None) -> Coverage:
    """What each programme counts under ``filters``: the kept count where it is what
    :func:`coverage` would work out (the filters leave every announcement as evidence, and the
    count is up to date), read in one query; else worked out."""
    filters = filters or Filters()
    if evidence(filters) == Filters() and is_current(session):
        return kept(session)
    return coverage(session, filters)


def kept(session: Session) -> Coverage:
    """The kept count, as a :class:`Coverage` of what the totals read (``kept``)."""
    added = {
        lot_id: Amount(chips, Qualifier(qualifier))
        for lot_id, chips, qualifier in session.execute(
            sa.select(ProgrammeLotCount.lot_id, ProgrammeLotCount.chips, ProgrammeLotCount.qualifier)
        )
    }
    # The programmes: entries with parts or a scope, and those the count holds lots of (a
    # snapshot of tracker publish keeps a programme whose parts it leaves out).
    holding = sa.select(ChipLot.entry_id).join(ProgrammeLotCount, ProgrammeLotCount.lot_id == ChipLot.id)
    ids: set[str] = {*session.scalars(programmes()), *session.scalars(holding.distinct())}
    return Coverage(added=added, programme_ids=frozenset(ids), kept=True)
