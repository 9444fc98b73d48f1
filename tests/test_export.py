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

from tests.conftest import Tracker
from tracker.service.database import create_engine
from tracker.service.export import EXPORT_COLUMNS, export_rows
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
