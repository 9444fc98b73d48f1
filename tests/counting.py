"""The programmes' count the tracker keeps, checked against the exact path: every figure the
totals read from it (:func:`tracker.service.counts.counted`) is what working the programmes
out again (:func:`tracker.service.programmes.coverage`) gives.

Run on every test database once its test ends (tests/conftest.py), and after each step of
random sequences of writes (tests/test_counts.py)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.vocabulary import Status
from tracker.service import counts
from tracker.service.database import create_engine
from tracker.service.filters import Filters
from tracker.service.programmes import coverage
from tracker.service.summary import Totals, grouped_totals, planned_total

# Groupings read both ways: lot keys and entry keys, joined tables, the period the timeline
# reads, the region (a programme's scope counts in each region it is within).
KEYS = (
    ("country", "vendor"),
    ("model", "status", "operator-country", "vendor-country"),
    ("family", "sponsor", "kind", "confidence", "scope", "schedule"),
    ("online_start", "online_precision"),
    ("region", "vendor"),
)
# Filters that only choose which chips to show, so that the kept count still holds: a part
# they leave out still covers its programme.
SHOWN = (
    Filters(),
    Filters(regions=("eu",), vendors=("NVIDIA",)),
    Filters(statuses=(Status.PLANNED, Status.CANCELLED, Status.OPERATIONAL)),
)


def _figures(rows: list[Totals]) -> list[tuple[object, ...]]:
    return [(row.keys, row.entries, row.chips, row.qualifier, row.bits) for row in rows]


def _close(kept: Totals, exact: Totals) -> bool:
    """The capacity sums agree but for the float rounding of the database's sums (the
    exact path shares a programme's power in Python, the kept one in SQL)."""
    return all(
        abs(Decimal(mine) - Decimal(theirs)) <= Decimal("1e-6") * max(Decimal(1), abs(Decimal(theirs)))
        for mine, theirs in zip(kept.capacity.sums, exact.capacity.sums, strict=True)
    )


def check_session(session: Session, *, thorough: bool = True) -> bool:
    """Assert that the kept count gives what the exact path gives, where it is up to date;
    returns whether it was (a count out of date is what a write outside the tracker leaves,
    and is never read). Not ``thorough``: the kept rows, and the totals by the first keys
    and overall only (at every test's end)."""
    if not counts.is_current(session):
        return False
    exact = coverage(session)
    kept = counts.counted(session)
    assert kept.kept
    assert kept.added == exact.added, "the kept count of the programmes' lots"
    assert kept.programme_ids == exact.programme_ids
    for shown in SHOWN if thorough else SHOWN[:1]:
        for keys in KEYS if thorough and shown == Filters() else KEYS[:1]:
            by_kept = grouped_totals(session, shown, keys, kept)
            by_exact = grouped_totals(session, shown, keys, exact)
            assert _figures(by_kept) == _figures(by_exact), (keys, shown)
            assert all(_close(mine, theirs) for mine, theirs in zip(by_kept, by_exact, strict=True)), keys
        total_kept = planned_total(session, shown, kept)
        total_exact = planned_total(session, shown, exact)
        assert _figures([total_kept]) == _figures([total_exact]), shown
        assert _close(total_kept, total_exact), shown
    return True


def check_database(url: str, *, thorough: bool = True) -> bool:
    """:func:`check_session` on the database at ``url``, where it has the tracker's schema at
    this version (a test may leave one empty, old or broken on purpose)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        if not {"programme_lot_count", "count_state", "chip_model"} <= tables:
            return False
        with Session(engine) as session:
            return check_session(session, thorough=thorough)
    finally:
        engine.dispose()
