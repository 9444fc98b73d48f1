"""The reliability suite (SPEC section 7): many writers at once, kills at random points, and
generated bad input. Each test reports its counts on stderr (`pytest -s` shows them), which
docs/reliability.md quotes."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Tracker
from tests.test_cli import database_contents
from tracker.service.export import EXPORT_COLUMNS

pytestmark = pytest.mark.slow  # processes killed, writers racing, thousands of generated inputs

WORKERS = 8
ENTRIES_EACH = 200  # half added one by one, half imported from a file


def report(text: str) -> None:
    print(f"[reliability] {text}", file=sys.stderr)


def entries_file(path: Path, prefix: str, count: int, first: int = 0) -> Path:
    """An import file of ``count`` new entries with ids ``{prefix}-{n}``, two lots each."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, EXPORT_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        for n in range(first, first + count):
            entry = {"id": f"{prefix}-{n:05d}", "name": f"{prefix} {n}", "country": ("FR", "DE", "US")[n % 3]}
            entry |= {"status": "planned", "online": "2026-Q3", "sources": "https://example.org/r"}
            for lot, model in ((1, "H100"), (2, "B200")):
                writer.writerow(
                    entry | {"lot": lot, "vendor": "NVIDIA", "model": model, "chips": 10 + n % 90}
                )
    return path


WORKER = """
import sys
from click.testing import CliRunner
from tracker.cli import cli
url, worker, adds, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
runner = CliRunner()
for n in range(adds):
    if n == adds // 2:  # half way through its adds, the worker imports its file
        result = runner.invoke(cli, ["--db", url, "import", path])
        if result.exit_code:
            sys.exit("import: " + result.stderr)
    entry = [f"Worker {worker} site {n}", "--id", f"w{worker}-{n:04d}", "--country", "FR"]
    chips = ["--chips", "10", "--vendor", "AMD", "--source", "x"]
    result = runner.invoke(cli, ["--db", url, "add", *entry, *chips])
    if result.exit_code:
        sys.exit("add: " + result.stderr)
"""


def test_eight_processes_adding_and_importing_at_once_lose_nothing(tracker: Tracker, tmp_path: Path) -> None:
    assert tracker.url is not None
    adds = ENTRIES_EACH // 2
    env = dict(os.environ, TRACKER_DATA_DIR=str(tmp_path / "data"))
    files = [
        entries_file(tmp_path / f"w{w}.csv", f"imported-{w}", ENTRIES_EACH - adds) for w in range(WORKERS)
    ]
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, tracker.url, str(worker), str(adds), str(files[worker])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for worker in range(WORKERS)
    ]
    outcomes = [(w.wait(timeout=900), w.communicate(timeout=60)[1]) for w in workers]
    assert outcomes == [(0, "")] * WORKERS  # no "database is locked", no failure of any kind
    ids = {row["id"] for row in csv.DictReader(io.StringIO(tracker.export()))}
    assert len(ids) == WORKERS * ENTRIES_EACH == 1600
    assert {f"w{w}-{n:04d}" for w in range(WORKERS) for n in range(adds)} <= ids
    report(
        f"{WORKERS} processes, {WORKERS * adds} adds and {WORKERS} imports of {ENTRIES_EACH - adds} entries "
        f"at once: {len(ids)} of 1,600 entries present, 0 failures, {time.monotonic() - started:.0f} s"
    )


SHUFFLED_ENTRIES = 3000  # three lots each


def _one_more_chip(lot: re.Match[str]) -> str:
    return f",{lot[1]},{int(lot[2]) + 1},"


def test_a_shuffled_or_sorted_export_imports_as_the_original_and_updates_every_lot(
    tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    """The review's case: an export sorted in a spreadsheet (by model) lost 62% of its lots
    when imported with --on-conflict update --skip-invalid. Every order now gives the same."""
    rng = random.Random(21)
    path = tmp_path / "entries.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, EXPORT_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        for n in range(SHUFFLED_ENTRIES):
            entry = {"id": f"s-{n:05d}", "name": f"S {n}", "country": ("FR", "DE", "US")[n % 3]}
            entry |= {"status": "planned", "online": "2026-Q3", "sources": "https://example.org/s"}
            for lot, chip in ((1, "H100"), (2, "B200"), (3, "MI300X")):
                vendor = "AMD" if chip == "MI300X" else "NVIDIA"
                writer.writerow(
                    entry | {"lot": lot, "vendor": vendor, "model": chip, "chips": rng.randint(1, 999)}
                )
    tracker.ok("import", str(path))
    exported = tracker.export()
    lots = len(exported.splitlines()) - 1
    assert lots == 3 * SHUFFLED_ENTRIES
    chips = sum(int(row["chips"]) for row in csv.DictReader(io.StringIO(exported)))
    header = exported.splitlines()[0]
    model = EXPORT_COLUMNS.index("model")
    orders = {
        "shuffled": lambda rows: rng.sample(rows, len(rows)),
        "sorted by model": lambda rows: sorted(rows, key=lambda row: row.split(",")[model]),
    }
    other = Tracker(empty_db_url)
    for name, reorder in orders.items():
        moved = tmp_path / f"{name}.csv"
        order = reorder(tracker.export().splitlines()[1:])
        moved.write_text("\n".join([header, *order]) + "\n", encoding="utf-8")
        if name == "shuffled":  # into an empty database: the same bytes back
            assert other.ok("import", str(moved)) == f"{SHUFFLED_ENTRIES} added, 0 updated, 0 unchanged\n"
            assert other.export() == exported
        # Every lot's count changed, the rows apart: each entry gets all three of its new lots.
        bumped = [
            re.sub(r",(H100|B200|MI300X),(\d+),", lambda m: f",{m[1]},{int(m[2]) + 1},", row) for row in order
        ]
        moved.write_text("\n".join([header, *bumped]) + "\n", encoding="utf-8")
        result = tracker("import", str(moved), "--on-conflict", "update", "--skip-invalid")
        assert (result.exit_code, result.stdout, result.stderr) == (
            0, f"0 added, {SHUFFLED_ENTRIES} updated, 0 unchanged\n", ""
        )  # fmt: skip
        now = list(csv.DictReader(io.StringIO(tracker.export())))
        assert len(now) == lots
        chips += lots  # one more chip in each lot
        assert sum(int(row["chips"]) for row in now) == chips
        report(
            f"an export of {SHUFFLED_ENTRIES:,} entries ({lots:,} lots), {name}, imported with --on-conflict "
            f"update --skip-invalid: {len(now):,} of {lots:,} lots kept, every one updated"
        )


KILLS = 20


def run_and_kill(args: list[str], delay: float) -> bool:
    """Run ``tracker ARGS`` and SIGKILL it after ``delay`` seconds; True if it was killed
    before it ended by itself."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode in (0, -signal.SIGKILL)  # it may have ended just before the kill
    return process.returncode == -signal.SIGKILL


def full_run(args: list[str]) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "tracker", *args], check=True, capture_output=True)
    return time.monotonic() - started


def test_imports_killed_at_random_points_leave_the_database_as_before(
    seeded_db_url: str, tmp_path: Path
) -> None:
    tracker = Tracker(seeded_db_url)
    rng = random.Random(7)
    size = 1500  # entries a file: 3,000 lots
    # How long a whole import takes here, so that the kills fall within one.
    duration = full_run(
        ["--db", seeded_db_url, "import", str(entries_file(tmp_path / "t.csv", "timing", size))]
    )
    untouched = whole = finished = 0
    for round_ in range(KILLS):
        before = database_contents(tracker)
        path = entries_file(tmp_path / f"k{round_}.csv", f"kill-{round_}", size)
        killed = run_and_kill(["--db", seeded_db_url, "import", str(path)], rng.uniform(0.2, 1.2) * duration)
        if killed and database_contents(tracker) == before:
            untouched += 1
            continue
        # It ended, or was killed once it had committed: then it went in whole.
        written = tracker.export().count(f"\nkill-{round_}-")
        assert written == 2 * size, f"round {round_}: {written} of {2 * size} lots, a partial import"
        whole += killed
        finished += not killed
    # The kills fall at random times, so how many land before the commit depends on the machine.
    assert untouched >= KILLS // 4, f"only {untouched} of {KILLS} imports were killed before they committed"
    report(
        f"import of {size:,} entries killed at random points {KILLS} times: {untouched} killed mid-way "
        f"left the database as before, {whole} killed after their commit and {finished} that ended first "
        "went in whole; none partly"
    )


def temporary_size(folder: Path) -> int:
    """The size of the export's temporary file in ``folder``, 0 before it is made or once it
    has been renamed into place (between finding it and asking its size, too)."""
    sizes = [0]
    for path in folder.glob(".lots.csv.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            sizes.append(path.stat().st_size)
    return max(sizes)


def test_exports_killed_at_random_points_leave_no_partial_file(db_url: str, tmp_path: Path) -> None:
    tracker = Tracker(db_url)
    tracker.ok("import", str(entries_file(tmp_path / "data.csv", "export", 5000)))
    whole = tracker.export()
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "lots.csv"
    rng = random.Random(11)
    killed = 0
    for round_ in range(KILLS):
        previous = f"export number {round_}\n"
        target.write_text(previous, encoding="utf-8")
        # Killed once its temporary file holds a random part of the whole: a point in its
        # work, not a time, so that it holds however loaded the machine is.
        part = rng.uniform(0, 1) * len(whole)
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--db", db_url, "export", "--output", str(target)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while process.poll() is None:
                if temporary_size(folder) >= part:
                    process.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.002)
        finally:
            process.wait(timeout=60)
        assert process.returncode in (0, -signal.SIGKILL)
        written = target.read_text(encoding="utf-8")
        assert written in (previous, whole), f"round {round_}: a partial file of {len(written):,} characters"
        if process.returncode == 0:
            assert written == whole, f"round {round_}: it ended, yet the file is the previous one"
        # Killed, it left the previous file, or the whole export when the kill came after its
        # temporary file, seen whole, was renamed into place (and before the process ended).
        killed += written == previous
        visible = sorted(path.name for path in folder.iterdir() if not path.name.startswith("."))
        assert visible == ["lots.csv"]
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} exports were killed while writing"
    report(
        f"export of 10,000 lots killed at a random point of its writing {KILLS} times: {killed} killed, the "
        f"previous file intact each time; {KILLS - killed} that ended first wrote the whole export"
    )


OPTIONS = [
    "--country", "--scope", "--id", "--operator", "--city", "--kind", "--sponsor", "--status", "--confidence",
    "--announced", "--online", "--chips", "--vendor", "--model", "--qualifier", "--unit", "--power-mw",
    "--parent", "--source", "--note",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from([
        "FR", "fr", "France", "XX", "", " ", "europe", "-1", "0", "1e3", "18,000", "2025-13-01", "Q5 2025",
        "2026", "nvidia", "GB200", "rack", "at-least", "programme", "x'); DROP TABLE entry;--",
        "europe-ai-factories-plan", "99999999999999999999", "NaN", "∞", "\x00", "\x1b[31m",
    ]),
    st.text(max_size=30),
)  # fmt: skip
ARGUMENTS = st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=8)


class Counts:
    examples = accepted = refused = 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=40), pairs=ARGUMENTS)
def test_generated_add_arguments_never_give_a_traceback_and_a_refusal_changes_nothing(
    seeded_tracker: Tracker, name: str, pairs: list[tuple[str, str]]
) -> None:
    before = database_contents(seeded_tracker)
    args = [name] + [item for pair in pairs for item in pair]
    result = seeded_tracker("add", *args)  # an unexpected exception would fail the test
    Counts.examples += 1
    assert "Traceback" not in result.stderr
    if result.exit_code == 0:
        Counts.accepted += 1
        seeded_tracker.ok("remove", result.stdout.strip(), "--yes")
        return
    Counts.refused += 1
    assert result.exit_code in (1, 2)
    assert result.stderr.startswith(("Error:", "Usage:")), result.stderr
    if result.stderr.startswith("Error:"):
        assert len(result.stderr.splitlines()) == 1, result.stderr
    assert database_contents(seeded_tracker) == before


CELLS = st.one_of(
    st.sampled_from(["", "FR", "x", "NVIDIA", "H100", "10", "-5", "2026-Q3", "planned", "rack", "exact", "eu",
                     "=1+1", "'", "a | b", "\n", "1e400", "europe-ai-factories-plan"]),
    st.text(max_size=12),
)  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=len(EXPORT_COLUMNS), max_size=len(EXPORT_COLUMNS)), max_size=4))
def test_generated_import_files_never_give_a_traceback_and_a_refusal_changes_nothing(
    seeded_tracker: Tracker, tmp_path: Path, rows: list[list[str]]
) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
    path = tmp_path / "generated.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    before = database_contents(seeded_tracker)
    result = seeded_tracker("import", str(path), "--on-conflict", "skip")
    Counts.examples += 1
    assert "Traceback" not in result.stderr
    if result.exit_code != 0:
        Counts.refused += 1
        assert result.exit_code == 2, result.stderr
        assert database_contents(seeded_tracker) == before
    else:
        Counts.accepted += 1


@pytest.fixture(scope="module", autouse=True)
def _report_generated_counts() -> object:
    yield
    if Counts.examples:
        report(f"generated inputs: {Counts.examples} add commands and import files, {Counts.refused} refused "
               f"with the database unchanged, {Counts.accepted} accepted, 0 tracebacks")  # fmt: skip


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` made read-only even for root (who ignores file modes): immutable, by chattr."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        path.chmod(mode)


def test_a_read_only_database_file_is_read_and_a_write_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    tracker = Tracker(str(path))
    tracker.ok("init")
    before = tracker.export()
    with read_only(path):
        assert tracker.export() == before
        result = tracker("add", "X", "--country", "FR")
        assert (result.exit_code, result.stderr) == (
            1,
            f"Error: database sqlite:///{path}: attempt to write a readonly database\n",
        )
    assert tracker.export() == before


def test_a_read_only_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    with read_only(folder):
        for name in ("tracker.db", "new.db"):
            result = Tracker(str(folder / name))("list")
            assert (result.exit_code, result.stderr) == (
                1,
                f"Error: cannot use SQLite database {folder / name}: folder {folder} is not writable\n",
            )
    assert list(folder.iterdir()) == []


def test_a_corrupt_database_file_is_named_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    Tracker(str(path)).ok("init")
    data = bytearray(path.read_bytes())
    data[100:4096] = bytes(len(data[100:4096]))  # the schema page zeroed, the header left
    path.write_bytes(bytes(data))
    result = Tracker(str(path))("list")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: database sqlite:///{path}: database disk image is malformed\n",
    )
    assert path.read_bytes() == bytes(data)
