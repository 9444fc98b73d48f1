"""A tracker killed with SIGKILL mid-import or mid-export leaves no trace: the database as
before, no partial file where the export goes."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Tracker
from tests.counting import check_database
from tests.test_cli import database_contents
from tracker.service.export import EXPORT_COLUMNS

pytestmark = pytest.mark.slow  # processes killed mid-way

ENTRIES = 30_000  # enough that writing takes a while on a fast machine


def write_big_file(path: Path, parent: str = "") -> None:
    """Entries of two lots each; with ``parent``, every fiftieth in France or Germany its part."""
    countries = ["FR", "DE", "US", "CN", "JP", "GB", "IN", "AE"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, EXPORT_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        for n in range(ENTRIES):
            entry = {"id": f"big-{n:06d}", "name": f"Big {n}", "operator": f"Operator {n % 97}"}
            entry |= {
                "country": countries[n % 8],
                "kind": "factory",
                "sponsor": "private",
                "status": "planned",
            }
            entry |= {"confidence": "reported", "announced": "2025-01-02", "online": "2026-Q3"}
            entry |= {"first_online": "2026-Q3"}  # as the export writes it: its first online period
            entry |= {"sources": f"https://example.org/{n % 300}", "qualifier": "exact"}
            if parent and n % 50 == 0 and countries[n % 8] in ("FR", "DE"):
                entry |= {"parent": parent}
            for lot, model in ((1, "H100"), (2, "B200")):
                writer.writerow(
                    entry | {"lot": lot, "vendor": "NVIDIA", "model": model, "chips": 100 + n % 900}
                )


def tracker_process(db_url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", db_url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 120) -> None:
    """SIGKILL the process as soon as ``ready()`` says it is in the middle of its work."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"it ended (exit {process.returncode}) before it could be killed"
        assert time.monotonic() < deadline, "it never reached the point where it is killed"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def well_into_writing(db_url: str) -> Callable[[], bool]:
    """True once the import has written several batches of rows (not yet committed): measured
    by the size of what it wrote, never by time, so that it holds on a machine of any speed."""
    url = sa.make_url(db_url)
    if url.get_backend_name() == "sqlite":
        wal = Path(f"{url.database}-wal")
        return lambda: wal.exists() and wal.stat().st_size > 4_000_000
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def ready() -> bool:
        with engine.connect() as connection:
            size = connection.execute(sa.text("SELECT pg_relation_size('chip_lot')")).scalar_one()
        return bool(size > 2_000_000)  # the table holds the seeds' three lots in 8 kB

    return ready


def test_an_import_killed_while_writing_leaves_the_database_as_before(
    seeded_db_url: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.csv"
    write_big_file(big, parent="europe-ai-factories-plan")  # parts of the seeds' European plan
    tracker = Tracker(seeded_db_url)
    before = database_contents(tracker)
    process = tracker_process(seeded_db_url, "import", str(big))
    kill_when(process, well_into_writing(seeded_db_url))
    assert database_contents(tracker) == before
    # The programmes' count is up to date, and what working it out again gives.
    assert check_database(seeded_db_url)
    # And the database still works: the same import, run to the end, goes in whole, and the
    # plan now counts what its new parts do not cover.
    assert tracker.ok("import", str(big)) == f"{ENTRIES} added, 0 updated, 0 unchanged\n"
    assert check_database(seeded_db_url)


def test_an_export_killed_while_writing_leaves_no_partial_file(db_url: str, tmp_path: Path) -> None:
    tracker = Tracker(db_url)
    big = tmp_path / "big.csv"
    write_big_file(big)
    tracker.ok("import", str(big))
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "lots.csv"
    target.write_text("the previous export\n", encoding="utf-8")

    def partly_written() -> bool:
        return any(path.stat().st_size > 100_000 for path in folder.glob(".lots.csv.*.tmp"))

    process = tracker_process(db_url, "export", "--output", str(target))
    kill_when(process, partly_written)
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    # The folder export: nothing at either target path.
    process = tracker_process(db_url, "export", "--output-dir", str(folder))

    def dated_partly_written() -> bool:
        return any(path.stat().st_size > 100_000 for path in folder.glob(".tracker-lots-*.tmp"))

    kill_when(process, dated_partly_written)
    assert sorted(path.name for path in folder.iterdir() if not path.name.startswith(".")) == ["lots.csv"]
    # A later export writes the file whole.
    tracker.ok("export", "--output", str(target))
    assert target.read_text(encoding="utf-8") == big.read_text(encoding="utf-8")
    assert os.path.getsize(target) == os.path.getsize(big)
