"""What the tracker writes goes where it was asked, whole, and nowhere else: links at a
destination are replaced, never followed; a reader that stops early or a full disk ends a
command with one line at most; markdown cells cannot break out of their table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tracker.service.export import EXPORT_COLUMNS


def add_two(tracker: Tracker) -> None:
    tracker.ok("add", "Old Site", "--country", "FR", "--chips", "100", "--vendor", "AMD")
    tracker.ok("add", "New Site", "--country", "DE", "--chips", "200", "--vendor", "NVIDIA")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "exports"
    path.mkdir()
    return path


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside the export folder that a planted link points at."""
    path = tmp_path / "elsewhere" / "precious.txt"
    path.parent.mkdir()
    path.write_text("precious\n", encoding="utf-8")
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_link_planted_at_the_output_file_is_replaced_and_its_target_untouched(
    tracker: Tracker, folder: Path, victim: Path
) -> None:
    add_two(tracker)
    link = folder / "lots.csv"
    link.symlink_to(victim)
    assert tracker.ok("export", "--output", str(link)) == f"{link}\n"
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not link.is_symlink()
    assert stat.S_ISREG(link.lstat().st_mode)
    assert link.read_text(encoding="utf-8") == tracker.export()


def test_links_planted_at_the_nightly_names_are_replaced_and_their_targets_untouched(
    tracker: Tracker, folder: Path, victim: Path
) -> None:
    add_two(tracker)
    today = dt.datetime.now(dt.timezone.utc).date()
    # Every day the run may take as today (it may straddle midnight): a link at each.
    days = [today + dt.timedelta(days=shift) for shift in (-1, 0, 1)]
    names = [
        *(f"tracker-lots-{day.isoformat()}.csv" for day in days),
        *(f"tracker-dump-{day.isoformat()}.jsonl" for day in days),
        "tracker-lots-latest.csv",
        "tracker-dump-latest.jsonl",
    ]
    for name in names:
        (folder / name).symlink_to(victim)
    written = [Path(line) for line in tracker.ok("export", "--output-dir", str(folder)).split()]
    assert [path.name in names for path in written] == [True] * 4
    assert victim.read_text(encoding="utf-8") == "precious\n"
    for path in written:
        assert not path.is_symlink()
        assert stat.S_ISREG(path.lstat().st_mode)
        expected = tracker.export() if path.suffix == ".csv" else tracker.ok("dump")
        assert path.read_text(encoding="utf-8") == expected


def test_a_replaced_file_keeps_its_permissions(tracker: Tracker, folder: Path, umask_022: None) -> None:
    add_two(tracker)
    target = folder / "lots.csv"
    target.write_text("the previous export\n", encoding="utf-8")
    target.chmod(0o600)
    tracker.ok("export", "--output", str(target))
    assert (mode(target), target.read_text(encoding="utf-8")) == (0o600, tracker.export())
    written = [Path(line) for line in tracker.ok("export", "--output-dir", str(folder)).split()]
    assert [mode(path) for path in written] == [0o644] * 4  # new files (CSVs and dumps): the umask's
    for path in written:
        path.chmod(0o640)
    tracker.ok("export", "--output-dir", str(folder))
    assert [mode(path) for path in written] == [0o640] * 4


def test_a_new_file_and_a_replaced_link_get_the_umasks_permissions(
    tracker: Tracker, folder: Path, victim: Path
) -> None:
    old = os.umask(0o027)
    try:
        victim.chmod(0o600)
        link = folder / "linked.csv"
        link.symlink_to(victim)
        tracker.ok("export", "--output", str(link))
        tracker.ok("export", "--output", str(folder / "new.csv"))
    finally:
        os.umask(old)
    assert (mode(link), mode(folder / "new.csv"), mode(victim)) == (0o640, 0o640, 0o600)


def test_a_folder_given_through_a_link_is_the_users_choice(tracker: Tracker, tmp_path: Path) -> None:
    real = tmp_path / "real-exports"
    real.mkdir()
    linked = tmp_path / "exports"
    linked.symlink_to(real, target_is_directory=True)
    written = [Path(line) for line in tracker.ok("export", "--output-dir", str(linked)).split()]
    assert [path.parent for path in written] == [linked] * 4
    assert sorted(path.name for path in real.iterdir()) == sorted(path.name for path in written)
    assert linked.is_symlink()


def test_a_pipe_or_a_device_is_written_to_never_replaced(tracker: Tracker, folder: Path) -> None:
    add_two(tracker)
    pipe = folder / "pipe"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    try:
        tracker.ok("export", "--output", str(pipe))
        received = os.read(reader, 1_000_000).decode("utf-8")
    finally:
        os.close(reader)
    assert received == tracker.export()
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    # A link of one's own to a pipe or a device is followed: that is where it was asked to go.
    link = folder / "to-null"
    link.symlink_to(os.devnull)
    tracker.ok("export", "--output", str(link))
    assert link.is_symlink()
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_a_link_to_a_pipe_planted_by_someone_else_is_replaced(
    tracker: Tracker, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_two(tracker)
    pipe = folder / "someone-elses-pipe"
    os.mkfifo(pipe)
    planted = [folder / "tracker-lots-latest.csv", folder / "lots.csv"]
    for link in planted:
        link.symlink_to(pipe)
        if os.geteuid() == 0:
            os.lchown(link, 65534, 65534)  # nobody's
    if os.geteuid() != 0:  # the links are ours: be someone else
        monkeypatch.setattr("tracker.service.files.os.geteuid", lambda: os.getuid() + 4242)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # someone listening at the pipe
    try:
        tracker.ok("export", "--output-dir", str(folder))
        tracker.ok("export", "--output", str(planted[1]))
        assert os.read(reader, 1_000_000) == b""  # nothing was sent to it
    finally:
        os.close(reader)
    for path in planted:
        assert stat.S_ISREG(path.lstat().st_mode)
        assert path.read_text(encoding="utf-8") == tracker.export()
    assert stat.S_ISFIFO(pipe.lstat().st_mode)


def run_tracker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """``tracker ARGS`` in a process of its own; ``timeout`` only keeps a hang from stopping the suite."""
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, timeout=timeout, check=False
    )


def test_standard_output_named_as_a_file_is_written_where_it_points(tracker: Tracker, tmp_path: Path) -> None:
    # As cron runs a job: standard output sent to a log file.
    assert tracker.url is not None
    add_two(tracker)
    log = tmp_path / "job.log"
    log.write_text("earlier runs\n", encoding="utf-8")
    with log.open("a", encoding="utf-8") as handle:
        process = subprocess.run(
            [sys.executable, "-m", "tracker", "--db", tracker.url, "export", "--output", "/dev/stdout"],
            stdout=handle,
            stderr=subprocess.PIPE,
            timeout=300,
            check=False,
        )
    assert (process.returncode, process.stderr) == (0, b"")
    assert Path("/dev/stdout").is_symlink()
    # Only the CSV: a path is printed for a file written, not for a stream written to.
    assert log.read_text(encoding="utf-8") == "earlier runs\n" + tracker.export()
    piped = run_tracker("--db", tracker.url, "export", "--output", "/dev/stdout")
    assert (piped.returncode, piped.stderr) == (0, b"")
    assert piped.stdout.decode("utf-8") == tracker.export()
    dumped = run_tracker("--db", tracker.url, "dump", "--output", "/dev/stdout")
    assert (dumped.returncode, dumped.stderr) == (0, b"")
    assert dumped.stdout.decode("utf-8") == tracker.ok("dump")


def test_a_pipe_left_where_temporary_files_go_never_stops_an_export(tracker: Tracker, folder: Path) -> None:
    # Files named as an export's temporary ones, left a while ago, are cleared; one that is a
    # pipe or a link must be neither opened (a pipe waits for a writer) nor followed.
    assert tracker.url is not None
    planted = folder / ".tracker-lots-latest.csv.pl4nt3.tmp"
    os.mkfifo(planted)
    link = folder / ".tracker-lots-latest.csv.l1nk3d.tmp"
    outside = folder.parent / "outside.tmp"
    outside.write_text("kept\n", encoding="utf-8")
    link.symlink_to(outside)
    old = 1_000_000_000
    for path in (planted, link):
        os.utime(path, (old, old), follow_symlinks=False)
    result = run_tracker("--db", tracker.url, "export", "--output-dir", str(folder), timeout=60)
    assert (result.returncode, result.stderr) == (0, b"")
    assert outside.read_text(encoding="utf-8") == "kept\n"


LOTS = 2 * 1_300  # more than a batch of 2,000 rows: the export still has rows to read when it stops


@pytest.fixture
def big_db_url(db_url: str, tmp_path: Path) -> str:
    """A database of LOTS chip lots, each entry with its own operator and a source, imported
    from a generated file."""
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, EXPORT_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        for n in range(LOTS // 2):
            entry = {"id": f"big-{n:05d}", "name": f"Big {n}", "operator": f"Operator {n}", "country": "FR"}
            entry |= {"kind": "factory", "sponsor": "private", "status": "planned", "confidence": "reported"}
            entry |= {"announced": "2025-01-02", "online": "2026-Q3", "sources": f"https://example.org/{n}"}
            for lot, model in ((1, "H100"), (2, "B200")):
                writer.writerow(entry | {"lot": lot, "vendor": "NVIDIA", "model": model, "chips": 100 + n})
    Tracker(db_url).ok("import", str(path))
    return db_url


STREAMING_COMMANDS = [
    ("export",),
    ("export", "--output", "/dev/stdout"),
    ("list", "--format", "csv"),
    ("list",),
    ("summary", "--by", "operator", "--format", "csv"),
    ("changes", "--since", "2000-01-01", "--format", "csv"),
]


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_every_streaming_command_quietly(big_db_url: str) -> None:
    for command in STREAMING_COMMANDS:
        with subprocess.Popen(
            [sys.executable, "-m", "tracker", "--db", big_db_url, *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process:  # as `tracker ... | head -1`
            assert process.stdout is not None
            assert process.stderr is not None
            assert process.stdout.readline()
            process.stdout.close()
            assert (process.wait(timeout=300), process.stderr.read()) == (0, b""), command


@pytest.mark.slow
def test_a_full_disk_is_one_line(big_db_url: str) -> None:
    result = run_tracker("--db", big_db_url, "export", "--output", "/dev/full")
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        1,
        b"",
        "Error: --output: cannot write /dev/full: No space left on device\n",
    )
    for command in STREAMING_COMMANDS:
        with open("/dev/full", "wb") as full:
            process = subprocess.run(
                [sys.executable, "-m", "tracker", "--db", big_db_url, *command],
                stdout=full,
                stderr=subprocess.PIPE,
                timeout=300,
                check=False,
            )
        where = "--output: cannot write /dev/stdout: " if "--output" in command else ""
        assert (process.returncode, process.stderr.decode()) == (
            1,
            f"Error: {where}No space left on device\n",
        ), command


def markdown_rows(text: str) -> list[list[str]]:
    """A markdown table's cells, split where GitHub splits them: at each pipe not escaped by a
    backslash (an escaped backslash escapes nothing)."""
    rows = []
    for line in text.splitlines():
        assert line.startswith("|"), line
        assert line.endswith("|"), line
        cells, cell, escaped = [], "", False
        for char in line[1:]:
            if char == "|" and not escaped:
                cells.append(cell.strip())
                cell = ""
            else:
                cell += char
            escaped = char == "\\" and not escaped
        rows.append(cells)
    return rows


def unescaped_markdown(cell: str) -> str:
    """A cell's text as a markdown reader shows it."""
    import html
    import re

    return html.unescape(re.sub(r"\\(.)", r"\1", cell).replace("<br>", "\n"))


NAME = "Pipe | name \\| <b>bold</b>"
OPERATOR = "<script>alert('x')</script> A|B & Co"


def test_markdown_cells_cannot_break_out_of_their_table(tracker: Tracker) -> None:
    tracker.ok(
        "add", NAME, "--id", "pipe-name", "--country", "FR", "--operator", OPERATOR,
        "--chips", "100", "--vendor", "NVIDIA",
    )  # fmt: skip
    tracker.ok("add", "Plain", "--country", "DE", "--chips", "5", "--vendor", "AMD", "--operator", "Plain Co")
    for command in (("list",), ("summary", "--by", "operator"), ("check",)):
        result = tracker(*command, "--format", "markdown")
        rows = markdown_rows(result.stdout)
        assert {len(row) for row in rows} == {len(rows[0])}, command  # no cell shifted
        assert "<" not in result.stdout.replace("<br>", ""), command  # no HTML reaches a reader
        cells = {unescaped_markdown(cell) for row in rows for cell in row}
        if command[0] == "list":
            assert {NAME, OPERATOR} <= cells
        if command[0] == "summary":
            assert OPERATOR in cells
        if command[0] == "check":  # long problems are not wrapped onto rows of their own
            assert len(rows) == 2 + len(tracker("check", "--format", "csv").stdout.splitlines()) - 1


def test_markdown_escaping_leaves_the_other_formats_as_they_were(tracker: Tracker) -> None:
    tracker.ok(
        "add", NAME, "--id", "pipe-name", "--country", "FR", "--operator", OPERATOR,
        "--chips", "100", "--vendor", "NVIDIA",
    )  # fmt: skip
    listed = tracker.ok("list", "--format", "csv")
    assert list(csv.reader(io.StringIO(listed)))[1][1:4] == [NAME, "FR", OPERATOR]
    assert f'"name": {json.dumps(NAME)}' in tracker.ok("list", "--format", "json")
    assert NAME in tracker.ok("list")
    assert OPERATOR in tracker.ok("summary", "--by", "operator", "--format", "csv")
