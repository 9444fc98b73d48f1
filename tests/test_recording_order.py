"""`tracker changes` lists what was recorded in the order it was recorded, however fast: each
record has its own moment, to the microsecond (tracker.model.tables.utc_now), which the dump
carries and restore puts back exactly; records of whole seconds (made before) keep one order."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tracker import open as open_tracker
from tracker.model import tables
from tracker.model.tables import RecordingClock

UTC = dt.timezone.utc
# The CLI and the API list the same rows, each of them (entry, change).
MADE_BY_HAND = [
    ("e", "added"),
    ("d", "added"),
    ("c", "added"),
    ("k", "added"),  # b's addition went with it
    ("e", "lot 1 chips"),
    ("e", "sources"),
    ("c", "status"),
    ("d", "city"),
    ("b", "removed"),
]
# After MADE_BY_HAND, an import of a file of the rows z, k (stored: a new status and city), a, m.
IMPORTED = [("z", "added"), ("a", "added"), ("m", "added"), ("k", "status"), ("k", "city")]


@pytest.fixture(params=["real clock", "clock stopped within one second"])
def clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dt.datetime | None]:
    """The moment the clock is stopped at (every record made within its second), or None."""
    if request.param == "real clock":
        yield None
        return
    stopped = dt.datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr(tables, "RECORDING_CLOCK", RecordingClock(lambda: stopped))
    yield stopped


def make_by_hand(cli: Tracker) -> None:
    """Entries added as e, d, c, b, k (not in the order of their ids), then an edit of e (its
    chips and a source), a status move of c, an edit of d and the removal of b: one after
    another, as fast as they go."""
    for chips, name in enumerate(["E", "D", "C", "B", "K"], start=10):
        cli.ok("add", name, "--country", "FR", "--chips", str(chips), "--vendor", "AMD")
    cli.ok("update", "e", "--chips", "99", "--source", "https://example.org/e")
    cli.ok("status", "c", "operational", "--on", "2025-06-01", "--source", "https://example.org/c")
    cli.ok("update", "d", "--city", "Lyon")
    cli.ok("remove", "b", "--yes", "--note", "a duplicate")


def import_file(cli: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "zakm.csv"
    path.write_text(
        "id,name,country,city,status,chips,vendor\n"
        "z,Z,FR,,,1,AMD\n"
        "k,K,FR,Nice,planned,14,AMD\n"
        "a,A,DE,,,2,AMD\n"
        "m,M,FR,,,3,AMD\n",
        encoding="utf-8",
    )
    cli.ok("import", str(path), "--on-conflict", "update")


def changes(cli: Tracker) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(cli.ok("changes", "--since", "2025-01-01", "--format", "csv"))))


def listed(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(row["entry"], row["change"]) for row in rows]


def test_changes_made_within_one_second_are_listed_in_the_order_made(
    tracker: Tracker, clock: dt.datetime | None
) -> None:
    make_by_hand(tracker)
    rows = changes(tracker)
    assert listed(rows) == MADE_BY_HAND
    moments = [dt.datetime.fromisoformat(row["when"]) for row in rows]
    assert moments == sorted(set(moments))  # each its own moment, in the order listed
    if clock is not None:
        assert {moment.replace(microsecond=0) for moment in moments} == {clock}
    assert tracker.url is not None
    with open_tracker(tracker.url) as api:
        table = api.changes("2025-01-01")
    assert [(row["entry"], row["change"]) for row in table.rows] == listed(rows)
    assert [row["when"] for row in table.rows] == [row["when"] for row in rows]
    assert [when for when, *_ in table.values] == moments


def test_people_read_the_moments_to_the_second(tracker: Tracker, clock: dt.datetime | None) -> None:
    make_by_hand(tracker)
    lines = tracker.ok("changes", "--since", "2025-01-01").splitlines()[2:]
    assert [line.split()[1] for line in lines] == [entry for entry, _ in MADE_BY_HAND]
    shown = [line.split()[0] for line in lines]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", when) for when in shown), shown
    if clock is not None:
        assert set(shown) == {clock.isoformat()}


def test_an_import_lists_the_entries_it_adds_in_the_files_order_then_what_it_updates(
    tracker: Tracker, tmp_path: Path, clock: dt.datetime | None
) -> None:
    make_by_hand(tracker)
    before = listed(changes(tracker))
    import_file(tracker, tmp_path)
    assert listed(changes(tracker)) == [*before, *IMPORTED]
    # Each entry added by the file has its own moment; its last change is not before it.
    z, a = (json.loads(tracker.ok("show", entry_id, "--format", "json")) for entry_id in "za")
    created, updated = (dt.datetime.fromisoformat(a[name]) for name in ("created_at", "updated_at"))
    assert dt.datetime.fromisoformat(z["created_at"]) < created < updated


def test_a_restored_database_lists_the_changes_in_the_same_order_at_the_same_moments(
    tracker: Tracker, empty_db_url: str, tmp_path: Path, clock: dt.datetime | None
) -> None:
    make_by_hand(tracker)
    import_file(tracker, tmp_path)
    dumped = tracker.ok("dump")
    restored = Tracker(empty_db_url)
    restored.ok("restore", "-", input=dumped)
    assert changes(restored) == changes(tracker)  # the moments to the microsecond too
    assert listed(changes(restored))[-len(IMPORTED) :] == IMPORTED
    assert restored.ok("dump") == dumped


def test_a_dump_of_whole_seconds_restores_with_one_order_of_kinds_and_rows(
    tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    """A dump of a database from before moments had microseconds: everything recorded within
    one second, listed by kind (added, status, edits, removed), then each kind by its row."""
    make_by_hand(tracker)
    import_file(tracker, tmp_path)
    moment = re.compile(r'"(created_at|updated_at|recorded_at|changed_at|removed_at|loaded_at)": "[^"]*"')
    old = moment.sub(r'"\1": "2025-06-01T12:00:00+00:00"', tracker.ok("dump"))
    restored = Tracker(empty_db_url)
    restored.ok("restore", "-", input=old)
    rows = changes(restored)
    assert {row["when"] for row in rows} == {"2025-06-01T12:00:00+00:00"}
    assert listed(rows) == [
        ("a", "added"), ("c", "added"), ("d", "added"), ("e", "added"), ("k", "added"), ("m", "added"),
        ("z", "added"), ("c", "status"), ("k", "status"), ("e", "lot 1 chips"), ("e", "sources"),
        ("d", "city"), ("k", "city"), ("b", "removed"),
    ]  # fmt: skip
    assert restored.ok("dump") == old


def test_the_clock_gives_each_call_a_later_moment_even_when_it_reads_the_same_or_goes_back() -> None:
    readings = iter(
        [dt.datetime(2025, 6, 1, 12, tzinfo=UTC)] * 3
        + [
            dt.datetime(2025, 6, 1, 11, 59, 59, 999_999, tzinfo=UTC),
            dt.datetime(2025, 6, 1, 12, 0, 1, tzinfo=UTC),
        ]
    )
    clock = RecordingClock(lambda: next(readings))
    assert [clock().isoformat() for _ in range(5)] == [
        "2025-06-01T12:00:00+00:00",
        "2025-06-01T12:00:00.000001+00:00",
        "2025-06-01T12:00:00.000002+00:00",
        "2025-06-01T12:00:00.000003+00:00",  # the clock went back
        "2025-06-01T12:00:01+00:00",
    ]


def test_threads_recording_at_once_never_get_the_same_moment() -> None:
    stopped = dt.datetime(2025, 6, 1, 12, tzinfo=UTC)
    clock = RecordingClock(lambda: stopped)
    moments: list[dt.datetime] = []

    def record() -> None:
        moments.extend(clock() for _ in range(2000))

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(moments)) == len(moments) == 8000
    assert max(moments) == stopped + dt.timedelta(microseconds=7999)
