"""Several processes writing to one database at once lose nothing and do not crash."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Tracker
from tracker.model.tables import ChipLot, ChipModel, ChipVendor, Entry, TokenMetric
from tracker.service.database import create_engine, for_writing
from tracker.service.entries import ENTRY_KEY, unique_violation
from tracker.service.tokens import FIGURE_KEY

pytestmark = pytest.mark.slow  # processes racing for one database

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


# Each worker loads the tracker, says it is ready, and runs its command when the test says go.
AT_ONCE = """
import sys
from tracker.cli import cli
import tracker.service.status, tracker.service.updates  # noqa: F401 - loaded before the start

print("ready", flush=True)
sys.stdin.readline()
cli.main(sys.argv[1:], prog_name="tracker")
"""


class Waiting:
    """``wait_for(n)`` returns once n sessions wait for a lock; ``waiting()`` tells how many do
    now (None on SQLite, where a waiting writer cannot be seen)."""

    def __init__(self, wait_for: Callable[[int], None], waiting: Callable[[], int] | None) -> None:
        self.wait_for = wait_for
        self.waiting = waiting

    def __call__(self, sessions: int) -> None:
        self.wait_for(sessions)


@contextlib.contextmanager
def another_writer(url: str, holding: sa.Executable) -> Iterator[Waiting]:
    """Another writer's transaction, which runs ``holding`` and so holds what it locks (the
    whole database on SQLite), and ends writing nothing when the block ends. Inside the
    block, ``wait_for(n)`` returns once n sessions wait for one of its locks (on PostgreSQL,
    where they can be seen; on SQLite, a writer waits at the start of its transaction)."""
    engine = create_engine(url)
    watcher = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT") if "postgresql" in url else None
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    def wait_for(sessions: int) -> None:
        if watcher is None:
            return
        with watcher.connect() as connection:
            for _ in range(6000):  # a minute at most: the workers are started, so they will come
                if connection.scalar(waiting) >= sessions:
                    return
                time.sleep(0.01)
        raise AssertionError(f"fewer than {sessions} sessions waited for the other writer")

    def waiting_now() -> int:
        assert watcher is not None
        with watcher.connect() as connection:
            return int(connection.scalar(waiting) or 0)

    try:
        with for_writing(engine).connect() as connection, connection.begin() as transaction:
            connection.execute(holding)
            yield Waiting(wait_for, waiting_now if watcher is not None else None)
            transaction.rollback()
    finally:
        engine.dispose()
        if watcher is not None:
            watcher.dispose()


def run_at_once(
    commands: list[list[str]], tmp_path: Path, url: str, holding: sa.Executable, *, queued: bool = False
) -> list[subprocess.CompletedProcess[str]]:
    """One `tracker` process per command, all started together while another writer holds
    what they will read (``holding``: see :func:`another_writer`), so that they contend for
    it however the machine schedules them; their results, in order. ``queued``: each starts
    once the one before waits, so that on PostgreSQL they queue for a lock in the order given."""
    env = dict(os.environ, TRACKER_DATA_DIR=str(tmp_path / "data"))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", AT_ONCE, "--db", url, *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for command in commands
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n"
    with another_writer(url, holding) as wait_for:
        for started, worker in enumerate(workers, start=1):
            assert worker.stdin is not None
            worker.stdin.close()  # go
            worker.stdin = None  # so that communicate() does not flush it
            if queued:
                wait_for(started)
        wait_for(len(workers))
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(worker.args, worker.returncode, stdout, stderr))
    return results


def locking(entry_id: str) -> sa.Executable:
    """What a writer that reads an entry to change it does first: lock its row."""
    return sa.select(Entry.id).where(Entry.id == entry_id).with_for_update()


def today() -> str:
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


def edits(tracker: Tracker, field: str) -> list[tuple[str, str]]:
    """The (old, new) values of one field's edits, oldest first, as `tracker changes` lists them."""
    rows = csv.DictReader(io.StringIO(tracker.ok("changes", "--since", today(), "--format", "csv")))
    return [(row["old"], row["new"]) for row in rows if row["change"] == field]


def stored_chips(tracker: Tracker, entry_id: str, lot: str) -> str:
    rows = csv.DictReader(io.StringIO(tracker.export()))
    return next(row["chips"] for row in rows if row["id"] == entry_id and row["lot"] == lot)


def assert_chained(changes: list[tuple[str, str]], first_old: str, last_new: str) -> None:
    """Each change starts from the value the one before it left."""
    olds = [old for old, _ in changes]
    news = [new for _, new in changes]
    assert olds == [first_old, *news[:-1]], changes
    assert news[-1] == last_new


def test_parallel_updates_of_one_lot_record_a_history_that_chains(tracker: Tracker, tmp_path: Path) -> None:
    assert tracker.url is not None
    tracker.ok(
        "add", "Lu", "--country", "FR", "--chips", "100", "--vendor", "AMD", "--source", "https://e.org"
    )
    counts = [f"{n}000" for n in range(1, 9)]
    commands = [["update", "lu", "--chips", count] for count in counts]
    results = run_at_once(commands, tmp_path, tracker.url, locking("lu"))
    assert sorted((r.returncode, r.stdout) for r in results) == [(0, "")] * len(counts)
    assert sorted(r.stderr for r in results) == sorted(
        f"lu: lot 1 chips: {old} -> {new}\n" for old, new in edits(tracker, "lot 1 chips")
    )
    changes = edits(tracker, "lot 1 chips")
    assert sorted(new for _, new in changes) == sorted(counts)
    assert_chained(changes, "100", stored_chips(tracker, "lu", "1"))


def test_parallel_status_moves_keep_one_history_and_refuse_a_repeat(tracker: Tracker, tmp_path: Path) -> None:
    assert tracker.url is not None
    tracker.ok("add", "Lu", "--country", "FR", "--announced", "2025-01-01", "--source", "https://e.org")
    # Every status but the first, on its own day in the order of a project's life; two of them
    # twice. However the processes interleave, each status is recorded once: the second
    # `operational` and `paused` find it in force on their day, as one after the other would.
    moves = [
        ("planned", "2025-02-01"),
        ("under-construction", "2025-02-02"),
        ("operational", "2025-02-03"),
        ("operational", "2025-02-03"),
        ("paused", "2025-02-04"),
        ("paused", "2025-02-04"),
        ("cancelled", "2025-02-05"),
        ("decommissioned", "2025-02-06"),
    ]
    commands = [["status", "lu", status, "--on", day, "--unsourced"] for status, day in moves]
    results = run_at_once(commands, tmp_path, tracker.url, locking("lu"))
    refused = sorted(r.stderr for r in results if r.returncode)
    assert [r.returncode for r in results if r.returncode] == [2, 2]
    assert refused == [
        "Error: NEW_STATUS: lu is operational already on 2025-02-03; nothing to record\n",
        "Error: NEW_STATUS: lu is paused already on 2025-02-04; nothing to record\n",
    ]
    recorded = list(dict.fromkeys(moves))
    before = ["announced", *(status for status, _ in recorded[:-1])]
    history = [line.split()[:3] for line in tracker.ok("show", "lu").splitlines()[-len(recorded) :]]
    assert history == [[day, old, new] for (new, day), old in zip(recorded, before, strict=True)]
    assert '"status": "decommissioned"' in tracker.ok("show", "lu", "--format", "json")


def test_parallel_removals_remove_once(tracker: Tracker, tmp_path: Path) -> None:
    assert tracker.url is not None
    tracker.ok("add", "Lu", "--country", "FR", "--chips", "100", "--vendor", "AMD")
    results = run_at_once([["remove", "lu", "--yes"]] * 8, tmp_path, tracker.url, locking("lu"))
    assert (
        sorted((r.returncode, r.stderr) for r in results)
        == [(0, "Removed lu.\n")] + [(1, "Error: no entry with id 'lu'; `tracker list` shows the ids\n")] * 7
    )
    rows = csv.DictReader(io.StringIO(tracker.ok("changes", "--since", today(), "--format", "csv")))
    assert [row["change"] for row in rows] == ["removed"]


def test_parallel_adds_of_one_id_add_it_once_and_refuse_the_others_as_one_after_another_would(
    tracker: Tracker, tmp_path: Path
) -> None:
    assert tracker.url is not None
    names = [f"Same {n}" for n in range(1, 9)]
    commands = [["add", name, "--id", "same", "--country", "FR"] for name in names]
    # The other writer adds the id first, and then gives up: one of the commands gets it.
    holding = sa.insert(Entry).values(id="same", name="Other", country="FR", status="announced")
    results = run_at_once(commands, tmp_path, tracker.url, holding)
    rows = list(csv.DictReader(io.StringIO(tracker.export())))
    assert [row["id"] for row in rows] == ["same"]
    winner = rows[0]["name"]
    assert (
        sorted((r.returncode, r.stdout, r.stderr) for r in results)
        == [(0, "same\n", "")]
        + [(1, "", f"Error: --id: id 'same' is already taken by '{winner}'; choose another id\n")] * 7
    )


def test_parallel_additions_of_one_lot_add_it_once_and_then_edit_it(tracker: Tracker, tmp_path: Path) -> None:
    assert tracker.url is not None
    tracker.ok("add", "Lu", "--country", "FR", "--chips", "100", "--vendor", "AMD")
    counts = [str(n) for n in range(1, 9)]
    commands = [["update", "lu", "--lot", "2", "--chips", c, "--vendor", "AMD"] for c in counts]
    results = run_at_once(commands, tmp_path, tracker.url, locking("lu"))
    assert sorted((r.returncode, r.stdout) for r in results) == [(0, "")] * len(counts)
    [(_, added)] = edits(tracker, "lot 2")  # one of them added the lot, the others edited it
    first = added.removesuffix(" AMD")
    changes = edits(tracker, "lot 2 chips")
    assert sorted([first, *(new for _, new in changes)]) == sorted(counts)
    assert_chained(changes, first, stored_chips(tracker, "lu", "2"))


def test_a_part_added_while_its_programme_stops_being_one_is_refused_or_stops_it(
    tracker: Tracker, tmp_path: Path
) -> None:
    assert tracker.url is not None
    tracker.ok("add", "Plan", "--kind", "programme", "--country", "FR", "--chips", "100", "--vendor", "AMD")
    commands = [
        ["update", "plan", "--kind", "factory"],
        ["add", "Part", "--country", "FR", "--parent", "plan"],
    ]
    # On PostgreSQL the update takes the programme first: the part must then find a factory.
    results = run_at_once(commands, tmp_path, tracker.url, locking("plan"), queued=True)
    outcome = [(r.returncode, r.stderr) for r in results]
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(tracker.export()))}
    refused_part = [
        (0, "plan: kind: programme -> factory\n"),
        (
            2,
            "Error: --parent: 'plan' is not a programme (its kind is factory); a parent has kind programme\n",
        ),
    ]
    refused_kind = [
        (2, "Error: --kind: plan has parts (part); only a programme has parts\n"),
        (0, ""),
    ]
    if "postgresql" in tracker.url:
        assert outcome == refused_part
    else:  # SQLite's writers take turns in no set order: either is what one after the other gives
        assert outcome in (refused_part, refused_kind)
    assert (rows["plan"]["kind"], "part" in rows) in (("factory", False), ("programme", True))


def test_parallel_token_figures_for_one_period_store_one_and_refuse_the_others(
    tracker: Tracker, tmp_path: Path
) -> None:
    assert tracker.url is not None
    counts = [f"{n}T" for n in range(1, 9)]
    figure = ["--as-of", "2025-06", "--source", "https://e.org/t"]
    commands = [["tokens", "add", "Example Cloud", *figure, "--per-day", count] for count in counts]
    holding = sa.insert(TokenMetric).values(
        provider="Example Cloud", period_start=dt.date(2025, 6, 1), period_precision="month", tokens_per_day=1
    )
    results = run_at_once(commands, tmp_path, tracker.url, holding)
    [stored] = csv.DictReader(io.StringIO(tracker.ok("tokens", "list", "--format", "csv")))
    per_day = int(stored["tokens_per_day"])
    refusal = (
        f"Error: Example Cloud has a token figure for 2025-06 already ({per_day:,} per day); "
        "a provider has one figure per period\n"
    )
    assert (
        sorted((r.returncode, r.stdout, r.stderr) for r in results)
        == [(0, f"{per_day}\n", "")] + [(1, "", refusal)] * 7
    )


def test_a_duplicate_key_is_told_apart_from_other_integrity_errors(db_url: str) -> None:
    engine = create_engine(db_url)

    def refusal(*inserts: sa.Executable) -> sa.exc.IntegrityError:
        """What the database says to the last of ``inserts``."""
        with engine.connect() as connection:
            for insert in inserts[:-1]:
                connection.execute(insert)
            with pytest.raises(sa.exc.IntegrityError) as raised:
                connection.execute(inserts[-1])
            return raised.value

    entry = sa.insert(Entry).values(id="lu", name="Lu", country="FR", status="announced")
    figure = sa.insert(TokenMetric).values(
        provider="P", period_start=dt.date(2025, 5, 1), period_precision="month", tokens_per_day=1
    )
    orphan = sa.insert(ChipLot).values(entry_id="nowhere", lot=1, vendor="AMD", quantity=1)
    try:
        same_id, same_period, no_entry = refusal(entry, entry), refusal(figure, figure), refusal(orphan)
    finally:
        engine.dispose()
    assert (unique_violation(same_id, ENTRY_KEY), unique_violation(same_id, FIGURE_KEY)) == (True, False)
    assert (unique_violation(same_period, FIGURE_KEY), unique_violation(same_period, ENTRY_KEY)) == (
        True,
        False,
    )
    assert (unique_violation(no_entry, ENTRY_KEY), unique_violation(no_entry, FIGURE_KEY)) == (False, False)


def test_an_import_and_an_add_of_the_same_id_at_once_end_as_one_after_the_other(
    tracker: Tracker, tmp_path: Path
) -> None:
    # The import has read which ids are stored, and waits to insert its first entry (aaa, held
    # by another writer) when an add of race, one of its ids, comes. Before, on PostgreSQL,
    # the add went in first and the import then failed on a raw duplicate key of pk_entry.
    assert tracker.url is not None
    path = tmp_path / "race.csv"
    path.write_text("id,name,country,chips,vendor\naaa,A,FR,1,AMD\nrace,Race,FR,2,AMD\n", encoding="utf-8")
    holding = sa.insert(Entry).values(id="aaa", name="held", country="FR", status="announced")
    env = dict(os.environ, TRACKER_DATA_DIR=str(tmp_path / "data"))

    def start(*args: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "tracker", "--db", tracker.url or "", *args]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    with another_writer(tracker.url, holding) as wait_for:
        importer = start("import", str(path))
        wait_for(1)
        adder = start("add", "Race", "--id", "race", "--country", "FR", "--chips", "3", "--vendor", "AMD")
        for _ in range(3000):  # it ends (nothing stops it), or waits for the import to end
            if adder.poll() is not None or (wait_for.waiting() >= 2 if wait_for.waiting else True):
                break
            time.sleep(0.01)
    imported = importer.communicate(timeout=300)
    added = adder.communicate(timeout=300)
    outcome = ((importer.returncode, *imported), (adder.returncode, *added))
    import_first = (
        (0, "2 added, 0 updated, 0 unchanged\n", ""),
        (1, "", "Error: --id: id 'race' is already taken by 'Race'; choose another id\n"),
    )
    add_first = (
        (2, "", f"{path}:3: id: 'race' is stored with other values (chips differs); --on-conflict update "
         f"replaces the stored entry, --on-conflict skip keeps it\nError: {path}: 1 problem; nothing was "
         "imported; --skip-invalid imports the other rows\n"),
        (0, "race\n", ""),
    )  # fmt: skip
    # On PostgreSQL an import keeps other writers waiting until it ends, as on SQLite.
    if "postgresql" in tracker.url:
        assert outcome == import_first
    else:  # which of the two takes SQLite's write lock first is up to the machine
        assert outcome in (import_first, add_first)


@pytest.mark.parametrize(
    ("command", "holding", "added", "refused"),
    [
        (
            ["chips", "add", "NVIDIA", "X99"],
            sa.insert(ChipModel).values(vendor="NVIDIA", name="X99"),
            "NVIDIA X99\n",
            "Error: MODEL: 'X99' already means NVIDIA model 'X99'\n",
        ),
        (
            ["chips", "add", "Newco", "N1", "--new-vendor"],
            sa.insert(ChipVendor).values(name="Newco"),
            "Newco N1\n",
            "Error: VENDOR: 'Newco' already means vendor 'Newco'\n",
        ),
    ],
    ids=["model", "vendor"],
)
def test_parallel_additions_to_the_catalogue_add_once_and_refuse_the_others(
    tracker: Tracker, tmp_path: Path, command: list[str], holding: sa.Executable, added: str, refused: str
) -> None:
    # Before, on PostgreSQL, the losers failed on a raw duplicate key of pk_chip_model or pk_chip_vendor.
    assert tracker.url is not None
    results = run_at_once([command] * 4, tmp_path, tracker.url, holding)
    assert (
        sorted((r.returncode, r.stdout, r.stderr) for r in results)
        == [(0, added, "")] + [(1, "", refused)] * 3
    )


def test_writers_naming_one_new_operator_at_once_make_one_operator(tracker: Tracker, tmp_path: Path) -> None:
    from tracker.model.names import match_key
    from tracker.service.operators import OPERATOR_LOCK_KEY

    assert tracker.url is not None
    spellings = ["Brand-New Co", "brand new co", "BRAND NEW CO.", "Brand New Co"]
    commands = [
        ["add", f"Site {n}", "--country", "FR", "--operator", spelling, "--source", "https://example.org/s"]
        for n, spelling in enumerate(spellings)
    ]
    holding = (
        sa.select(sa.func.pg_advisory_xact_lock(OPERATOR_LOCK_KEY))
        if "postgresql" in tracker.url
        else sa.select(sa.literal(1))
    )
    results = run_at_once(commands, tmp_path, tracker.url, holding)
    assert [result.returncode for result in results] == [0] * len(commands)
    # One of them made the operator, and said so; the others found it.
    assert sum("new operator" in result.stderr for result in results) == 1
    listed = csv.DictReader(io.StringIO(tracker.ok("operators", "--format", "csv")))
    made = [row for row in listed if match_key(row["operator"]) == "brandnewco"]
    assert len(made) == 1
    assert made[0]["entries"] == str(len(commands))
