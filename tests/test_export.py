"""tracker export: the nightly folder export, incremental exports, files never half written."""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import io
import os
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import PostgresServer, Tracker
from tracker.service.database import create_engine
from tracker.service.export import EXPORT_COLUMNS, export_rows, write_export
from tracker.service.files import ABANDONED_AFTER_SECONDS
from tracker.service.filters import Filters

HEADER_LINE = ",".join(EXPORT_COLUMNS) + "\n"


def add_two(tracker: Tracker) -> None:
    tracker.ok("add", "Old Site", "--country", "FR", "--chips", "100", "--vendor", "AMD")
    tracker.ok("add", "New Site", "--country", "DE", "--chips", "200", "--vendor", "NVIDIA")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder for exports (tmp_path holds the test's SQLite database)."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


def test_output_dir_writes_a_dated_file_and_the_latest_one(tracker: Tracker, folder: Path) -> None:
    add_two(tracker)
    before = utc_today()
    result = tracker("export", "--output-dir", str(folder))
    after = utc_today()
    assert result.exit_code == 0, result.stderr
    dated, latest = (Path(line) for line in result.stdout.splitlines()[:2])  # then the dump's (test_dump.py)
    match = re.fullmatch(r"tracker-lots-(\d{4}-\d{2}-\d{2})\.csv", dated.name)
    assert match is not None
    assert dt.date.fromisoformat(match.group(1)) in {before, after}
    assert (dated.parent, latest) == (folder, folder / "tracker-lots-latest.csv")
    expected = tracker.export()
    assert dated.read_text(encoding="utf-8") == expected
    assert latest.read_text(encoding="utf-8") == expected
    assert sorted(path.name for path in folder.iterdir() if path.suffix == ".csv") == sorted(
        [dated.name, latest.name]
    )


def test_output_dir_again_replaces_both_files(tracker: Tracker, folder: Path) -> None:
    add_two(tracker)
    tracker.ok("export", "--output-dir", str(folder))
    tracker.ok("add", "Third", "--country", "IT")
    written = tracker.ok("export", "--output-dir", str(folder)).split()[:2]  # then the dump's
    assert [Path(path).read_text(encoding="utf-8") for path in written] == [tracker.export()] * 2
    csv_files = [path for path in folder.iterdir() if path.suffix == ".csv"]
    assert len(csv_files) in (2, 3)  # 3 when the two runs straddle midnight (UTC)


def test_output_dir_that_is_missing_or_a_file_is_refused(tracker: Tracker, folder: Path) -> None:
    missing = folder / "nowhere"
    result = tracker("export", "--output-dir", str(missing))
    assert (result.exit_code, result.stderr) == (2, f"Error: --output-dir: {missing} does not exist\n")
    a_file = folder / "file.csv"
    a_file.write_text("x", encoding="utf-8")
    result = tracker("export", "--output-dir", str(a_file))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: --output-dir: {a_file} is a file; give a folder\n",
    )


def test_an_unwritable_folder_fails_clearly(
    tracker: Tracker, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulated: the tests may run as root, whom folder permissions do not stop.
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tracker.service.files.tempfile.mkstemp", refuse)
    result = tracker("export", "--output-dir", str(folder))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: --output-dir: cannot write in {folder}: Permission denied\n",
    )
    assert list(folder.iterdir()) == []


def test_output_and_output_dir_together_are_refused(tracker: Tracker, folder: Path) -> None:
    result = tracker("export", "--output", str(folder / "a.csv"), "--output-dir", str(folder))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: give --output or --output-dir, not both.")
    assert list(folder.iterdir()) == []


def test_changed_since_exports_only_entries_added_or_changed_since(db_url: str) -> None:
    tracker = Tracker(db_url)
    add_two(tracker)
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE entry SET created_at = :old, updated_at = :old WHERE id = 'old-site'"),
            {"old": dt.datetime(2025, 1, 10, 23, 59, tzinfo=dt.timezone.utc)},
        )
    engine.dispose()
    ids = [
        row["id"]
        for row in csv.DictReader(io.StringIO(tracker.ok("export", "--changed-since", "2025-01-11")))
    ]
    assert ids == ["new-site"]
    ids = [
        row["id"]
        for row in csv.DictReader(io.StringIO(tracker.ok("export", "--changed-since", "2025-01-10")))
    ]
    assert ids == ["new-site", "old-site"]
    for bad in ("last week", ""):
        result = tracker("export", "--changed-since", bad)
        assert result.exit_code == 2
        assert result.stderr.startswith(f"Error: --changed-since: cannot read {bad!r}; use a day, such as ")


def test_a_temporary_file_left_by_a_killed_export_is_cleared(tracker: Tracker, folder: Path) -> None:
    abandoned = folder / ".tracker-lots-latest.csv.k1ll3d.tmp"
    abandoned.write_text("id,name\npartial", encoding="utf-8")
    in_use = folder / ".tracker-lots-latest.csv.w0rk1n.tmp"
    in_use.write_text("id,name\nbeing written", encoding="utf-8")
    recent = folder / ".tracker-lots-latest.csv.j0st1n.tmp"
    recent.write_text("", encoding="utf-8")
    old = time.time() - ABANDONED_AFTER_SECONDS - 5
    for path in (abandoned, in_use):
        os.utime(path, (old, old))
    with in_use.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        tracker.ok("export", "--output-dir", str(folder))
    assert not abandoned.exists()
    assert in_use.exists()
    assert recent.exists()


def test_an_incremental_export_never_replaces_the_full_one(tracker: Tracker, folder: Path) -> None:
    add_two(tracker)
    full = tracker.ok("export", "--output-dir", str(folder)).split()[:2]  # then the dump's
    changes = tracker.ok("export", "--output-dir", str(folder), "--changed-since", "2099-01-01").split()
    assert [Path(path).name[:16] for path in changes] == ["tracker-changes-"] * 2
    assert Path(changes[1]).name == "tracker-changes-latest.csv"
    assert [Path(path).read_text(encoding="utf-8") for path in changes] == [HEADER_LINE] * 2
    assert [Path(path).read_text(encoding="utf-8") for path in full] == [tracker.export()] * 2


def test_temporary_files_of_exports_killed_on_earlier_days_are_cleared(
    tracker: Tracker, folder: Path
) -> None:
    earlier = folder / ".tracker-lots-2025-01-01.csv.x1y2z3.tmp"
    earlier.write_text("partial", encoding="utf-8")
    old = time.time() - ABANDONED_AFTER_SECONDS - 5
    os.utime(earlier, (old, old))
    tracker.ok("export", "--output-dir", str(folder))
    assert not earlier.exists()


def test_a_selection_is_never_written_over_the_nightly_files(tracker: Tracker, folder: Path) -> None:
    result = tracker("export", "--output-dir", str(folder), "--region", "europe")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --output-dir writes the whole nightly export (only the changes with --changed-since), so "
        "that a selection never replaces it; write a selection with --output FILE. "
        "See 'tracker export --help'.\n"
    )
    assert list(folder.iterdir()) == []


def test_the_export_file_is_what_csv_writes_of_the_export_rows(db_url: str) -> None:
    # The file is written a faster way (an entry's cells once for all its lots); it must
    # hold exactly what the csv module writes of the rows, quoting and formulas included.
    tracker = Tracker(db_url)
    tracker.ok("chips", "add", "NVIDIA", '=X, "rack" edition')
    tracker.ok(
        "add", '=HYPERLINK("http://evil")', "--id", "evil", "--country", "FR", "--operator", "A, B",
        "--city", "-Paris", "--note", 'said "more than", twice', "--power-mw", "120",
        "--chips", "72", "--unit", "rack", "--vendor", "NVIDIA", "--model", "GB200",
        "--online", "Q4 2026", "--source", "https://example.org/a", "--source", "@b",
    )  # fmt: skip
    tracker.ok(
        "update",
        "evil",
        "--lot",
        "2",
        "--chips",
        "1000",
        "--vendor",
        "NVIDIA",
        "--model",
        '=X, "rack" edition',
    )
    tracker.ok("add", "Bare", "--country", "DE", "--power-mw", "12.5", "--announced", "2025-06-11")
    tracker.ok("add", "Plain", "--country", "IT", "--chips", "5", "--vendor", "AMD", "--qualifier", "~")
    engine = create_engine(db_url)
    with Session(engine) as session:
        expected = io.StringIO()
        writer = csv.writer(expected, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(export_rows(session, Filters()))
    engine.dispose()
    written = tracker.export()
    assert written == expected.getvalue()
    assert len(written.splitlines()) == 5  # evil's two lots, and one row each for the others
    assert '\'=X, ""rack"" edition' in written


def add_awkward_entries(tracker: Tracker) -> None:
    """Entries whose cells take each way of writing one: quoted, made inert, holding a % (which
    the export's lines are made with), a line break; lots repeating, and none."""
    tracker.ok("chips", "add", "NVIDIA", '%s, 100% "rack"')
    tracker.ok(
        "add", "100% =sovereign", "--id", "awkward", "--country", "FR", "--city", "'Quoted",
        "--operator", "A, B", "--note", 'line one\nline "two", 50%', "--power-mw", "120",
        "--chips", "72", "--unit", "rack", "--vendor", "NVIDIA", "--model", "GB200",
        "--online", "Q4 2026", "--source", "https://example.org/a", "--source", "@b",
    )  # fmt: skip
    tracker.ok(
        "update",
        "awkward",
        "--lot",
        "2",
        "--chips",
        "1000",
        "--vendor",
        "NVIDIA",
        "--model",
        '%s, 100% "rack"',
    )
    tracker.ok(
        "add", "Plain", "--country", "DE", "--power-mw", "12.5", "--announced", "2025-06-11",
        "--online", "2027", "--first-online", "H2 2026", "--users", "Others; more",
        "--chips", "5", "--vendor", "AMD", "--qualifier", "~", "--source", "https://example.org/p",
    )  # fmt: skip
    tracker.ok(
        "add", "Lotless", "--country", "FR", "--power-mw", "0.125", "--source", "https://example.org/l"
    )
    tracker.ok(
        "add",
        "Percent lot",
        "--country",
        "IT",
        "--chips",
        "9",
        "--vendor",
        "NVIDIA",
        "--model",
        '%s, 100% "rack"',
    )
    for number in range(3):  # the same lot again, on entries of their own
        tracker.ok(
            "add", f"Again {number}", "--country", "DE", "--chips", "5", "--vendor", "AMD", "--qualifier", "~"
        )


@pytest.mark.parametrize(
    "selection",
    [{}, {"countries": ["FR"]}, {"vendors": ["AMD"]}, {"countries": ["DE", "IT"], "vendors": ["NVIDIA"]}],
)
def test_the_export_file_is_what_csv_writes_of_the_export_rows_of_any_selection(
    db_url: str, selection: dict[str, list[str]]
) -> None:
    from tracker.service.filters import resolve_filters

    tracker = Tracker(db_url)
    add_awkward_entries(tracker)
    engine = create_engine(db_url)
    with Session(engine) as session:
        filters = resolve_filters(session, **selection)  # type: ignore[arg-type]
        expected = io.StringIO()
        writer = csv.writer(expected, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(export_rows(session, filters))
        written = io.StringIO()
        write_export(session, filters, written)
    engine.dispose()
    assert written.getvalue() == expected.getvalue()
    rows = list(csv.DictReader(io.StringIO(written.getvalue())))
    assert rows, selection
    if not selection:
        assert written.getvalue() == tracker.export()
        assert len(rows) == 8  # awkward's two lots, one row each for the others
        awkward = [row for row in rows if row["id"] == "awkward"]
        # A cell is made inert by its start only; a % is as it is.
        assert [row["name"] for row in awkward] == ["100% =sovereign"] * 2
        assert [row["city"] for row in awkward] == ["''Quoted"] * 2
        assert [row["sources"] for row in awkward] == ["'@b | https://example.org/a"] * 2
        assert [row["model"] for row in awkward] == ["GB200", '%s, 100% "rack"']
        assert awkward[0]["notes"] == 'line one\nline "two", 50%'
        assert [row["power_mw"] for row in rows if row["id"] in ("awkward", "plain", "lotless")] == [
            "120",
            "120",
            "0.125",
            "12.5",
        ]
    for row in rows:  # the sources of entries left out are left out with them
        assert row["sources"] in ("", f"https://example.org/{row['id'][0]}", "'@b | https://example.org/a")


def test_an_export_is_the_same_bytes_on_sqlite_and_postgresql(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    sqlite = Tracker(f"sqlite:///{tmp_path / 'export.db'}")
    name = postgres_server.create()
    try:
        postgres = Tracker(postgres_server.url_for(name))
        for tracker in (sqlite, postgres):
            tracker.ok("init", "--no-seed")
            add_awkward_entries(tracker)
        exported = sqlite.export()
        assert exported.count("\n") == 11  # the header, 8 rows, a note's line break in 2 of them
        assert postgres.export() == exported
    finally:
        postgres_server.drop(name)
