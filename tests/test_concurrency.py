"""Several processes writing to one database at once lose nothing and do not crash."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Tracker

PROCESSES = 4
ADDS_EACH = 5


def run_writers(db_url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    """PROCESSES processes at once, each adding ADDS_EACH entries through the CLI."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tracker.cli import cli\n"
        "url, worker = sys.argv[1], sys.argv[2]\n"
        f"for n in range({ADDS_EACH}):\n"
        "    result = CliRunner().invoke(cli, ['--db', url, 'add', f'W{worker} {n}', '--country', 'FR',\n"
        "                                      '--chips', '10', '--vendor', 'AMD'])\n"
        "    if result.exit_code:\n"
        "        sys.exit(result.stderr)\n"
    )
    env = dict(os.environ, TRACKER_DATA_DIR=str(tmp_path / "data"))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url, str(worker)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for worker in range(PROCESSES)
    ]
    return [
        subprocess.CompletedProcess(w.args, w.wait(timeout=300), *w.communicate(timeout=300)) for w in workers
    ]


def test_concurrent_adds_are_all_kept(tracker: Tracker, tmp_path: Path) -> None:
    assert tracker.url is not None
    results = run_writers(tracker.url, tmp_path)
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * PROCESSES
    ids = {row["id"] for row in csv.DictReader(io.StringIO(tracker.export()))}
    assert ids == {f"w{worker}-{n}" for worker in range(PROCESSES) for n in range(ADDS_EACH)}


def test_concurrent_first_use_creates_the_schema_once(empty_db_url: str, tmp_path: Path) -> None:
    results = run_writers(empty_db_url, tmp_path)
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * PROCESSES
    rows = list(csv.DictReader(io.StringIO(Tracker(empty_db_url).export())))
    assert len(rows) == PROCESSES * ADDS_EACH
