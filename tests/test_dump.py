"""tracker dump and tracker restore: everything a user recorded, history included, moved
exactly between databases (SQLite and PostgreSQL); and the dump in the nightly export folder."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PostgresServer, Tracker
from tracker.model.fields import ENTRY_FIELDS
from tracker.model.tables import Base
from tracker.service.database import create_engine
from tracker.service.dump import FORMAT_VERSION, LATER_FIELDS, NOT_DUMPED, RECORD_TYPES, VERSION_FIELDS

ROOT = Path(__file__).parent.parent
DUMP_DOC = ROOT / "docs" / "dump.md"
# The days the answers are compared on: before, during and after the history built below.
AS_OF_DAYS = ("2025-01-20", "2025-02-15", "2025-03-15", "2025-06-30", "2025-10-01", "2026-02-01")


def execute(url: str, sql: str, **values: object) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(sql), values)
    engine.dispose()


def scalars(url: str, sql: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = list(connection.execute(sa.text(sql)).scalars())
    engine.dispose()
    return found


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        names = sorted(sa.inspect(connection).get_table_names())
    engine.dispose()
    return names


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)


def build_history(tracker: Tracker, url: str, tmp_path: Path) -> list[str]:
    """A database holding every kind of record a user makes: the catalogue extended and its
    figures set, entries added, edited, moved between statuses (some recorded late, for earlier
    days), a programme with parts, lots of several numbers, qualifiers and units, a removal, an
    import that updates, token figures. Returns the ids of its entries.

    Ids and sources are chosen so that bytewise order differs from a locale's (the test
    PostgreSQL databases sort text as English does: hyphens ignored, case folded).
    """
    t = tracker
    t.ok("chips", "add", "Acme", "X1", "--new-vendor", "--family", "Rocket", "--alias", "AX1",
         "--bf16-tflops", "500.5", "--tdp-w", "650", "--per-server", "8",
         "--source", "https://acme.example/x1")  # fmt: skip
    t.ok("chips", "set", "NVIDIA", "H100", "--tdp-w", "710", "--source", "https://example.org/h100-sheet")
    t.ok("add", "Alpha Site", "--id", "ab-c", "--country", "FR", "--operator", "Op A", "--city", "Paris",
         "--kind", "factory", "--sponsor", "private", "--confidence", "reported", "--chips", "1000",
         "--vendor", "NVIDIA", "--model", "H100", "--announced", "2025-01-15", "--online", "Q4 2025",
         "--power-mw", "12.5", "--source", "https://example.org/Zeta",
         "--note", "two\nlines\u2028and more")  # fmt: skip
    t.ok("update", "ab-c", "--lot", "2", "--chips", "300", "--vendor", "AMD", "--model", "MI300X",
         "--qualifier", "approx", "--source", "https://example.org/alpha")  # fmt: skip
    t.ok("update", "ab-c", "--lot", "1", "--chips", "1200", "--name", "Alpha Site Paris")
    t.ok(
        "status", "ab-c", "under-construction", "--on", "2025-03-01", "--source", "https://example.org/alpha"
    )
    t.ok("status", "ab-c", "operational", "--on", "2025-09-01", "--unsourced")
    # Recorded late, for a day before the other changes.
    t.ok("status", "ab-c", "planned", "--on", "2025-02-01", "--source", "https://example.org/late",
         "--note", "recorded late")  # fmt: skip
    t.ok("add", "EU Plan", "--id", "eu-plan", "--kind", "programme", "--scope", "eu",
         "--sponsor", "sovereign", "--chips", "10000", "--vendor", "NVIDIA", "--qualifier", "at-least",
         "--announced", "2025-02-01",
         "--source", "https://example.org/eu")  # fmt: skip
    t.ok("add", "Part Racks", "--id", "abb", "--country", "DE", "--parent", "eu-plan", "--chips", "2",
         "--unit", "rack", "--vendor", "NVIDIA", "--model", "GB200", "--announced", "2025-02-10")  # fmt: skip
    t.ok("add", "Part Acme", "--id", "ab1", "--country", "IT", "--parent", "eu-plan", "--chips", "500",
         "--vendor", "Acme", "--model", "ax 1", "--status", "planned",
         "--announced", "2025-03-10")  # fmt: skip
    t.ok("add", "Gone Site", "--id", "gone", "--country", "ES", "--chips", "50", "--vendor", "unknown")
    t.ok("status", "gone", "cancelled", "--on", "2025-04-01", "--unsourced")
    t.ok("remove", "gone", "--yes", "--note", "a duplicate of ab-c")
    # Operators: one met first in an entry, given its headquarters; one added and renamed; a
    # bundled one merged into another as an alias. A source graded, a check, the users.
    t.ok(
        "operators", "set", "Op A", "--hq", "FR", "--kind", "private", "--source", "https://example.org/op-a"
    )
    t.ok(
        "operators", "add", "Zeta Cloud", "--hq", "DE", "--alias", "ZC", "--source", "https://example.org/zc"
    )
    t.ok(
        "operators",
        "set",
        "zc",
        "--rename",
        "Zeta Compute",
        "--group",
        "Zeta",
        "--source",
        "https://example.org/zc",
    )
    t.ok("update", "abb", "--operator", "Zeta Cloud", "--users", "Op A, Acme")
    t.ok(
        "operators",
        "set",
        "Nebius",
        "--alias",
        "Nscale",
        "--hq",
        "NL",
        "--source",
        "https://example.org/merge",
    )
    t.ok("update", "ab-c", "--source", "https://example.org/Zeta", "--grade", "press")
    t.ok(
        "verify", "ab-c", "--on", "2025-06-01", "--source", "https://example.org/check", "--grade", "primary"
    )
    # An import that updates one entry and adds another with several lots.
    rows = list(csv.DictReader(io.StringIO(t.export())))
    for row in rows:
        if row["id"] == "ab1":
            row["chips"] = "650"
            row["notes"] = "=not a formula"
    added = dict.fromkeys(rows[0], "")
    added.update(id="imported", name="Imported Site", country="JP", status="announced",
                 announced="2025-05-05", vendor="NVIDIA", model="B200", chips="100", qualifier="exact",
                 sources="https://example.org/jp")  # fmt: skip
    rows.append(added)
    rows.append({**added, "lot": "3", "vendor": "Google", "model": "TPU v5p", "chips": "64"})
    path = tmp_path / "update.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    t.ok("import", str(path), "--on-conflict", "update")
    t.ok("tokens", "add", "Acme Cloud", "--as-of", "2025-05", "--per-day", "1.5T", "--share", "12.5",
         "--source", "https://example.org/tokens", "--note", "a note")  # fmt: skip
    t.ok("tokens", "add", "Acme Cloud", "--as-of", "Q3 2025", "--per-month", "60T",
         "--source", "https://example.org/tokens")  # fmt: skip
    # What no command sets: a lot's own status and online period; and days in the past, so
    # that `summary --as-of` and `changes` see a history spread over the year (one moment
    # with microseconds, which must come back exactly too).
    execute(url, "UPDATE chip_lot SET status = 'paused', online_start = '2026-01-01', "
                 "online_precision = 'quarter' WHERE entry_id = 'ab-c' AND lot = 2")  # fmt: skip
    for entry_id, moment in (("ab-c", utc(2025, 1, 15, 9)), ("eu-plan", utc(2025, 2, 1, 12)),
                             ("abb", utc(2025, 2, 10, 8, 30)),
                             ("ab1", utc(2025, 3, 10, 23, 59, 59))):  # fmt: skip
        execute(url, "UPDATE entry SET created_at = :moment WHERE id = :id", moment=moment, id=entry_id)
    execute(url, "UPDATE status_event SET recorded_at = :moment WHERE to_status = 'under-construction'",
            moment=utc(2025, 3, 2, 7, 0, 1).replace(microsecond=250_000))  # fmt: skip
    return ["ab-c", "ab1", "abb", "eu-plan", "imported"]


def answers(tracker: Tracker, ids: list[str], *, chips: bool = True) -> dict[str, str]:
    """What the commands tell of the database, to compare two databases by.

    ``chips`` leaves out `tracker chips`, whose aliases are in the server's collation order
    (bytewise on SQLite, not on PostgreSQL), so differ between the two whatever the data.
    """
    found = {
        "changes": tracker.ok("changes", "--since", "2000-01-01", "--format", "csv"),
        "export": tracker.export(),
        "list": tracker.ok("list", "--format", "csv"),
        "tokens": tracker.ok("tokens", "list", "--format", "csv"),
        "summary by status": tracker.ok("summary", "--by", "status", "--by", "model", "--format", "csv"),
        "operators": tracker.ok("operators", "--format", "csv"),
        "sovereignty": tracker.ok("sovereignty", "--bloc", "europe", "--format", "csv"),
        "check": tracker("check", "--format", "csv").stdout,
    }
    if chips:
        found["chips"] = tracker.ok("chips", "--format", "csv")
    for entry_id in ids:
        found[f"show {entry_id}"] = tracker.ok("show", entry_id, "--format", "json")
    for day in AS_OF_DAYS:
        found[f"summary --as-of {day}"] = tracker.ok("summary", "--as-of", day, "--format", "csv")
    return found


def history_ids(url: str) -> dict[str, list[object]]:
    """The ids of every history row, which `changes` orders by within one second."""
    return {
        table: scalars(url, f"SELECT id FROM {table} ORDER BY id")
        for table in (
            "chip_lot",
            "status_event",
            "entry_change",
            "entry_removal",
            "token_metric",
            "entry_verification",
        )
    }


def dump_of(tracker: Tracker) -> str:
    result = tracker("dump")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.fixture
def history(tracker: Tracker, db_url: str, tmp_path: Path) -> list[str]:
    return build_history(tracker, db_url, tmp_path)


# The round trip.


@pytest.mark.parametrize("target_kind", ["without the schema", "made by init --no-seed"])
def test_dump_restore_dump_gives_the_same_bytes_and_the_same_answers(
    tracker: Tracker, db_url: str, empty_db_url: str, history: list[str], tmp_path: Path, target_kind: str
) -> None:
    dumped = dump_of(tracker)
    assert dump_of(tracker) == dumped  # the same database, the same bytes
    target = Tracker(empty_db_url)
    if target_kind == "made by init --no-seed":
        target.ok("init", "--no-seed")
    path = tmp_path / "team.jsonl"
    path.write_text(dumped, encoding="utf-8")
    result = target("restore", str(path))
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in dumped.splitlines()]
    entries = sum(record["type"] == "entry" for record in records)
    assert result.stdout.startswith(f"{entries} entries, ")
    assert dump_of(target) == dumped
    assert answers(target, history) == answers(tracker, history)
    assert history_ids(empty_db_url) == history_ids(db_url)
    # The reference data is as `init` leaves it: running it adds nothing.
    target.ok("init", "--no-seed")
    assert dump_of(target) == dumped


def test_restore_reads_standard_input(tracker: Tracker, empty_db_url: str, history: list[str]) -> None:
    dumped = dump_of(tracker)
    target = Tracker(empty_db_url)
    target.ok("restore", "-", input=dumped)
    assert dump_of(target) == dumped


@pytest.mark.slow
def test_a_dump_moves_from_sqlite_to_postgresql_and_back_exactly(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'laptop.db'}"
    source = Tracker(sqlite_url)
    source.ok("init", "--no-seed")
    ids = build_history(source, sqlite_url, tmp_path)
    dumped = dump_of(source)
    name = postgres_server.create()
    try:
        postgres_url = postgres_server.url_for(name)
        team = Tracker(postgres_url)
        team.ok("restore", "-", input=dumped)
        assert dump_of(team) == dumped
        assert answers(team, ids, chips=False) == answers(source, ids, chips=False)
        assert history_ids(postgres_url) == history_ids(sqlite_url)
        back_url = f"sqlite:///{tmp_path / 'back.db'}"
        back = Tracker(back_url)
        back.ok("restore", "-", input=dump_of(team))
        assert dump_of(back) == dumped
        assert answers(back, ids) == answers(source, ids)  # SQLite again: `chips` too
    finally:
        postgres_server.drop(name)


def test_adding_after_a_restore_continues_the_ids(
    tracker: Tracker, empty_db_url: str, history: list[str]
) -> None:
    """On PostgreSQL the sequences are moved past the restored ids, so that new rows fit."""
    target = Tracker(empty_db_url)
    target.ok("restore", "-", input=dump_of(tracker))
    before = history_ids(empty_db_url)
    target.ok(
        "add",
        "After",
        "--country",
        "NL",
        "--chips",
        "10",
        "--vendor",
        "AMD",
        "--source",
        "https://example.org/new",
    )
    target.ok("update", "after", "--lot", "2", "--chips", "20", "--vendor", "NVIDIA")
    target.ok("status", "ab-c", "paused", "--on", "2025-10-01", "--source", "https://example.org/pause")
    target.ok(
        "tokens",
        "add",
        "Acme Cloud",
        "--as-of",
        "2025-11",
        "--per-day",
        "2T",
        "--source",
        "https://example.org/t",
    )
    target.ok("remove", "imported", "--yes")
    target.ok("verify", "ab-c", "--on", "2025-10-02")
    after = history_ids(empty_db_url)
    for table, ids in before.items():
        added = sorted(int(str(id_)) for id_ in set(after[table]) - set(ids))
        assert added, table
        assert min(added) > max(int(str(id_)) for id_ in ids), table


def test_init_after_a_restore_brings_back_no_seed_entry_a_user_removed(
    seeded_tracker: Tracker, empty_db_url: str
) -> None:
    seeded_tracker.ok("remove", "nebius-uk", "--yes")
    dumped = dump_of(seeded_tracker)
    assert '"type": "seed_load"' in dumped
    target = Tracker(empty_db_url)
    target.ok("restore", "-", input=dumped)
    target.ok("init")
    assert dump_of(target) == dumped


def test_dump_records_are_sorted_keyed_and_complete(tracker: Tracker, history: list[str]) -> None:
    text = dump_of(tracker)
    lines = text.splitlines()  # which splits on U+2028 too: escaped in the dump
    assert len(lines) == text.count("\n")
    records = [json.loads(line) for line in lines]
    assert records[0] == {"type": "header", "format": "tracker-dump", "version": FORMAT_VERSION}
    assert records[-1]["type"] == "end"
    for line, record in zip(lines, records, strict=True):
        written = json.dumps(record, sort_keys=True, ensure_ascii=False)
        assert line == written.replace("\u2028", "\\u2028")
    order = [record_type.name for record_type in RECORD_TYPES]
    types = [record["type"] for record in records[1:-1]]
    assert types == sorted(types, key=order.index)  # grouped, in the documented order
    assert records[-1]["records"] == {name: types.count(name) for name in order}
    for record_type in RECORD_TYPES:
        keys = [tuple(r[k] for k in record_type.key) for r in records if r["type"] == record_type.name]
        bytewise = sorted(keys, key=lambda key: [v.encode() if isinstance(v, str) else v for v in key])
        assert keys == bytewise
        assert len(set(keys)) == len(keys)
    entries = [r["id"] for r in records if r["type"] == "entry"]
    assert entries == ["ab-c", "ab1", "abb", "eu-plan", "imported"]  # bytewise, not as English sorts
    lot = next(r for r in records if r["type"] == "chip_lot" and r["entry_id"] == "ab-c" and r["lot"] == 2)
    assert (lot["status"], lot["online_start"], lot["online_precision"]) == (
        "paused", "2026-01-01", "quarter",
    )  # fmt: skip
    assert (lot["quantity"], lot["qualifier"], lot["model"]) == (300, "approx", "MI300X")
    racks = next(r for r in records if r["type"] == "chip_lot" and r["entry_id"] == "abb")
    assert (racks["announced_quantity"], racks["announced_unit"]) == (2, "rack")
    alpha = next(r for r in records if r["type"] == "entry" and r["id"] == "ab-c")
    assert (alpha["power_mw"], alpha["created_at"], alpha["notes"]) == (
        "12.500", "2025-01-15T09:00:00+00:00", "two\nlines\u2028and more",
    )  # fmt: skip
    late = next(r for r in records if r["type"] == "status_event" and r["note"] == "recorded late")
    assert (late["source"], late["effective_on"], late["from_status"]) == (
        "https://example.org/late", "2025-02-01", "announced",
    )  # fmt: skip
    moved = next(r for r in records if r["type"] == "status_event" and r["to_status"] == "under-construction")
    assert moved["recorded_at"] == "2025-03-02T07:00:01.250000+00:00"
    removal = next(r for r in records if r["type"] == "entry_removal")
    assert (removal["entry_id"], removal["note"]) == ("gone", "a duplicate of ab-c")
    assert not any(r.get("entry_id") == "gone" for r in records if r["type"] != "entry_removal")
    x1 = next(r for r in records if r["type"] == "chip_model" and r["name"] == "X1")
    assert (x1["vendor"], x1["bf16_tflops"], x1["per_server"], x1["family"]) == ("Acme", "500.5", 8, "Rocket")
    h100 = next(r for r in records if r["type"] == "chip_model" and r["name"] == "H100")
    assert (h100["tdp_w"], h100["figures_source"]) == (710, "https://example.org/h100-sheet")
    assert {"type": "chip_model_alias", "vendor": "Acme", "alias": "AX1", "model": "X1"} in records
    assert {"type": "chip_vendor", "name": "Acme", "country": None, "country_source": None} in records
    tokens = [r for r in records if r["type"] == "token_metric" and r["provider"] == "Acme Cloud"]
    assert [(r["tokens_per_day"], r["share_pct"], r["reported_per"]) for r in tokens] == [
        (1_500_000_000_000, "12.500", "day"),
        (60_000_000_000_000 * 3 // 92, None, "month"),
    ]
    links = [(r["entry_id"], r["source"]) for r in records if r["type"] == "entry_source"]
    assert ("ab-c", "https://example.org/Zeta") in links
    assert ("ab-c", "https://example.org/late") in links


def test_every_table_is_dumped_or_said_why_not() -> None:
    """A table added later must join the dump (or NOT_DUMPED, with a reason): so that what a
    user records is never left behind by a move."""
    dumped = {record_type.name for record_type in RECORD_TYPES}
    assert dumped | set(NOT_DUMPED) == set(Base.metadata.tables)
    assert not dumped & set(NOT_DUMPED)
    for record_type in RECORD_TYPES:
        columns = {column.name for column in Base.metadata.tables[record_type.name].columns}
        expected = columns - {"source_id"} | ({"source"} if "source_id" in columns else set())
        if record_type.name == "source":
            expected -= {"id"}  # sources are known by their reference
        assert set(record_type.fields) == expected, record_type.name
        assert "type" not in columns


def test_the_dump_format_is_documented_field_by_field() -> None:
    doc = DUMP_DOC.read_text(encoding="utf-8")
    assert f'"version": {FORMAT_VERSION}' in doc
    sections = re.split(r"^### ", doc, flags=re.MULTILINE)
    for record_type in RECORD_TYPES:
        section = next((s for s in sections if s.startswith(f"`{record_type.name}`")), None)
        assert section is not None, record_type.name
        documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)
        later = list(LATER_FIELDS.get(record_type.name, ()))
        assert documented == VERSION_FIELDS[record_type.name].split() + later, record_type.name


def test_the_dump_has_the_fields_of_its_version_and_the_entry_fields_declared_since() -> None:
    # A field removed or renamed must raise FORMAT_VERSION (a tracker refuses dumps of versions
    # it does not know); one added to entries (tracker/model/fields.py) follows them, without.
    later = {column for field in ENTRY_FIELDS for column in field.table_columns} - set(
        VERSION_FIELDS["entry"].split()
    )
    for record_type in RECORD_TYPES:
        fields = list(record_type.fields)
        expected = VERSION_FIELDS[record_type.name].split()
        if record_type.name == "entry":
            assert set(fields) == set(expected) | later
        else:
            assert fields == [*expected, *LATER_FIELDS.get(record_type.name, ())], record_type.name


def test_the_documented_jq_and_python_examples_run(
    tracker: Tracker, history: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_text(dump_of(tracker), encoding="utf-8")
    doc = DUMP_DOC.read_text(encoding="utf-8")
    commands = re.findall(r"^\$ (jq .+)$", doc, flags=re.MULTILINE)
    assert commands
    for command in commands:
        result = subprocess.run(
            command.replace("dump.jsonl", str(path)), shell=True, capture_output=True, text=True
        )
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.strip(), command
    python = re.search(r"```python\n(.+?)```", doc, flags=re.DOTALL)
    assert python is not None
    result = subprocess.run(
        [sys.executable, "-c", python.group(1)], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "ab-c" in result.stdout


# Refusals: a database that holds data, a file that is not a whole dump of this format.


def test_a_database_with_entries_is_refused_and_left_as_it_was(
    tracker: Tracker, history: list[str], seeded_tracker: Tracker
) -> None:
    before = dump_of(seeded_tracker)
    result = seeded_tracker("restore", "-", input=dump_of(tracker))
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: the database \S+ already holds 5 entries, \d+ chip lots, .*token figures; "
        r"restore loads a dump into an empty database only: a new one, or one made by "
        r"`tracker init --no-seed`\n",
        result.stderr,
    ), result.stderr
    assert dump_of(seeded_tracker) == before


def test_a_database_with_only_token_figures_is_refused(
    tracker: Tracker, empty_db_url: str, history: list[str]
) -> None:
    target = Tracker(empty_db_url)
    target.ok(
        "tokens", "add", "Solo", "--as-of", "2025-05", "--per-day", "1T", "--source", "https://example.org/s"
    )
    before = dump_of(target)
    result = target("restore", "-", input=dump_of(tracker))
    assert result.exit_code == 1
    assert "already holds 1 token figure;" in result.stderr
    assert dump_of(target) == before


def test_restores_racing_into_one_database_let_exactly_one_in(
    tracker: Tracker, history: list[str], empty_db_url: str, tmp_path: Path
) -> None:
    """Four restores of the same dump into one new database at once: one is restored, the
    others find it no longer empty, whatever the order they come in."""
    dumped = dump_of(tracker)
    path = tmp_path / "team.jsonl"
    path.write_text(dumped, encoding="utf-8")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "--db", empty_db_url, "restore", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    results = [(process.returncode, *output) for process, output in zip(processes, outputs, strict=True)]
    assert sorted(code for code, _, _ in results) == [0, 1, 1, 1]
    for code, _, stderr in results:
        if code:
            assert stderr.decode().startswith("Error: the database "), stderr
            assert b"already holds 5 entries" in stderr
            assert stderr.count(b"\n") == 1
    assert dump_of(Tracker(empty_db_url)) == dumped


Edit = Callable[[list[str]], tuple[list[str], int, str]]


def _line_of(lines: list[str], test: Callable[[dict[str, object]], bool]) -> int:
    """The index of the first record ``test`` picks."""
    return next(i for i, line in enumerate(lines) if test(json.loads(line)))


def _set(
    record_type: str, pick: Callable[[dict[str, object]], bool] = lambda r: True, **values: object
) -> Edit:
    def edit(lines: list[str]) -> tuple[list[str], int, str]:
        i = _line_of(lines, lambda r: r["type"] == record_type and pick(r))
        record = {**json.loads(lines[i]), **values}
        return [*lines[:i], json.dumps(record, sort_keys=True), *lines[i + 1 :]], i + 1, ""

    return edit


def _status_typo(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", lambda r: r["id"] == "ab1", status="operatonal")(lines)
    return (
        edited,
        line,
        (
            "entry.status: 'operatonal' is not one of announced, planned, under-construction, operational, "
            "paused, cancelled, decommissioned"
        ),
    )


def _unknown_vendor(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("chip_lot", lambda r: r["entry_id"] == "ab1", vendor="Nowhere", model=None)(lines)
    return edited, line, "chip_lot.vendor: no chip_vendor record has name 'Nowhere'"


def _unknown_model(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("chip_lot", lambda r: r["entry_id"] == "ab1", model="X9")(lines)
    return edited, line, "chip_lot.vendor, model: no chip_model record has vendor 'Acme', name 'X9'"


def _missing_parent(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", lambda r: r["id"] == "abb", parent_id="no-such")(lines)
    return edited, line, "entry.parent_id: no entry record has id 'no-such'"


def _parent_not_a_programme(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", lambda r: r["id"] == "abb", parent_id="ab-c")(lines)
    return edited, line, "entry.parent_id: 'ab-c' is not a programme (its kind is factory)"


def _parent_loop(lines: list[str]) -> tuple[list[str], int, str]:
    edited, _, _ = _set("entry", lambda r: r["id"] == "eu-plan", parent_id="abb")(lines)
    edited, line, _ = _set("entry", lambda r: r["id"] == "abb", kind="programme")(edited)
    return edited, line, "entry.parent_id: 'abb' is part of itself: abb, eu-plan, abb"


def _unknown_source(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set(
        "status_event", lambda r: r["source"] is not None, source="https://nowhere.example"
    )(lines)
    return edited, line, "status_event.source: no source record has the reference 'https://nowhere.example'"


def _duplicate_lot(lines: list[str]) -> tuple[list[str], int, str]:
    i = _line_of(lines, lambda r: r["type"] == "chip_lot")
    return [*lines[: i + 1], lines[i], *lines[i + 1 :]], i + 2, "chip_lot: the database refused it: "


def _no_chips(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("chip_lot", lambda r: r["entry_id"] == "ab1", quantity=0)(lines)
    return edited, line, "chip_lot: the database refused it: "  # its CHECK, in the database's words


def _unknown_region(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", lambda r: r["id"] == "eu-plan", scope="mars")(lines)
    return edited, line, "entry.scope: no region record has id 'mars'"


def _not_an_object(lines: list[str]) -> tuple[list[str], int, str]:
    i = _line_of(lines, lambda r: r["type"] == "entry")
    return [*lines[:i], "[1, 2]", *lines[i + 1 :]], i + 1, "not a JSON record: a record is an object, {...}"


def _too_many_decimals(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", lambda r: r["id"] == "ab-c", power_mw="12.5001")(lines)
    return edited, line, "entry.power_mw: '12.5001' has more than 3 digits after the point"


def _naive_moment(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", lambda r: r["id"] == "ab-c", created_at="2025-01-15T09:00:00")(lines)
    return edited, line, "entry.created_at: '2025-01-15T09:00:00' has no UTC offset"


def _unknown_country(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", lambda r: r["id"] == "ab-c", country="ZZ")(lines)
    return edited, line, "entry.country: 'ZZ' is not an ISO 3166-1 alpha-2 code"


def _unknown_headquarters(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("operator", lambda r: r["name"] == "Op A", hq_country="XX")(lines)
    return edited, line, "operator.hq_country: 'XX' is not an ISO 3166-1 alpha-2 code"


def _text_for_number(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("chip_lot", lambda r: r["entry_id"] == "ab1", quantity="650")(lines)
    return edited, line, "chip_lot.quantity: '650' is not a whole number"


def _missing_field(lines: list[str]) -> tuple[list[str], int, str]:
    i = _line_of(lines, lambda r: r["type"] == "entry")
    record = json.loads(lines[i])
    del record["notes"]
    return [*lines[:i], json.dumps(record), *lines[i + 1 :]], i + 1, "entry: no field notes"


def _unknown_field(lines: list[str]) -> tuple[list[str], int, str]:
    edited, line, _ = _set("entry", colour="red")(lines)
    return edited, line, "entry: unknown field colour (a field of a newer tracker: upgrade the tracker)"


def _unknown_type(lines: list[str]) -> tuple[list[str], int, str]:
    return [*lines[:2], '{"type": "gadget"}', *lines[2:]], 3, "unknown record type 'gadget'"


def _not_json(lines: list[str]) -> tuple[list[str], int, str]:
    i = _line_of(lines, lambda r: r["type"] == "entry")
    return [*lines[:i], lines[i][:-5], *lines[i + 1 :]], i + 1, "not a JSON record: "


def _out_of_order(lines: list[str]) -> tuple[list[str], int, str]:
    i = _line_of(lines, lambda r: r["type"] == "entry")
    k = _line_of(lines, lambda r: r["type"] == "token_metric")
    moved = [*lines[:i], lines[k], *lines[i:k], *lines[k + 1 :]]
    return moved, i + 2, "an entry record after token_metric records; records go in the order of docs/dump.md"


def _newer_version(lines: list[str]) -> tuple[list[str], int, str]:
    header = '{"format": "tracker-dump", "type": "header", "version": 3}'
    return (
        [header, *lines[1:]],
        1,
        "dump format version 3 is newer than this tracker reads (2); upgrade the tracker",
    )


def _not_a_dump(lines: list[str]) -> tuple[list[str], int, str]:
    return ["id,name,country", "x,X,FR"], 1, "not a tracker dump: a dump begins with its header record"


def _a_line_missing(lines: list[str]) -> tuple[list[str], int, str]:
    i = _line_of(lines, lambda r: r["type"] == "status_event")
    kept = [*lines[:i], *lines[i + 1 :]]
    count = sum('"type": "status_event"' in line for line in lines)
    return kept, len(kept), f"the end record counts {count} status_event records, the file holds {count - 1}"


def _records_after_the_end(lines: list[str]) -> tuple[list[str], int, str]:
    return [*lines, lines[1]], len(lines) + 1, "a record after the end record"


EDITS: dict[str, Edit] = {
    "a status misspelt": _status_typo,
    "a lot's vendor not in the catalogue": _unknown_vendor,
    "a lot's model not in the catalogue": _unknown_model,
    "a parent that does not exist": _missing_parent,
    "a parent that is not a programme": _parent_not_a_programme,
    "a programme part of itself": _parent_loop,
    "a source that is not in the dump": _unknown_source,
    "a lot twice": _duplicate_lot,
    "a lot of no chips": _no_chips,
    "a scope that is no region": _unknown_region,
    "a line that is not an object": _not_an_object,
    "a figure with more decimals than kept": _too_many_decimals,
    "a moment without its offset": _naive_moment,
    "a country that does not exist": _unknown_country,
    "an operator's headquarters that does not exist": _unknown_headquarters,
    "a count given as text": _text_for_number,
    "a field missing": _missing_field,
    "a field added": _unknown_field,
    "a record type unknown": _unknown_type,
    "a line that is not JSON": _not_json,
    "a record out of order": _out_of_order,
    "a newer format": _newer_version,
    "a CSV file": _not_a_dump,
    "a line deleted": _a_line_missing,
    "records after the end": _records_after_the_end,
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_a_dump_edited_wrongly_is_refused_naming_its_line_and_nothing_is_written(
    tracker: Tracker, history: list[str], empty_db_url: str, tmp_path: Path, edit: Edit
) -> None:
    lines, number, message = edit(dump_of(tracker).splitlines())
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = Tracker(empty_db_url)
    target.ok("init", "--no-seed")
    before = dump_of(target)
    result = target("restore", str(path))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"Error: {path}:{number}: {message}"), result.stderr
    assert result.stderr.count("\n") == 1
    assert dump_of(target) == before


def test_a_refused_restore_into_a_new_database_leaves_it_without_the_schema(
    tracker: Tracker, history: list[str], empty_db_url: str
) -> None:
    lines, number, _ = _status_typo(dump_of(tracker).splitlines())
    target = Tracker(empty_db_url)
    result = target("restore", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: <stdin>:{number}: entry.status: ")
    assert table_names(empty_db_url) == []


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (
            lambda text: text[: text.rindex('{"records"')],
            "{path}: ends after line {lines} without its end record: the file is truncated",
        ),
        (lambda text: text[: len(text) // 2], "{path}:{lines}: the line is cut short: the file is truncated"),
        (lambda text: "", "{path}: is empty: a dump begins with its header record"),
    ],
    ids=["at a line's end", "within a line", "to nothing"],
)
def test_a_truncated_dump_is_refused(
    tracker: Tracker, history: list[str], empty_db_url: str, tmp_path: Path,
    cut: Callable[[str], str], message: str,
) -> None:  # fmt: skip
    text = cut(dump_of(tracker))
    path = tmp_path / "cut.jsonl"
    path.write_text(text, encoding="utf-8")
    result = Tracker(empty_db_url)("restore", str(path))
    assert result.exit_code == 2
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    assert result.stderr == "Error: " + message.format(path=path, lines=lines) + "\n"
    assert table_names(empty_db_url) == []


def test_bytes_that_are_not_utf8_are_refused_with_their_line(
    tracker: Tracker, history: list[str], empty_db_url: str, tmp_path: Path
) -> None:
    data = dump_of(tracker).encode("utf-8").replace(b"Alpha Site Paris", b"Alpha Site Par\xefs")
    number = data[: data.index(b"\xef")].count(b"\n") + 1
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(data)
    result = Tracker(empty_db_url)("restore", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}:{number}: not UTF-8 text")


def test_restore_of_a_missing_file_is_a_clear_error(empty_db_url: str, tmp_path: Path) -> None:
    result = Tracker(empty_db_url)("restore", str(tmp_path / "nowhere.jsonl"))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: FILE: {tmp_path / 'nowhere.jsonl'} does not exist\n",
    )


# Writing the dump.


def test_dump_output_writes_a_file_whole_and_prints_its_path(
    tracker: Tracker, history: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "out.jsonl"
    result = tracker("dump", "--output", str(path))
    assert (result.exit_code, result.stdout) == (0, f"{path}\n")
    assert path.read_text(encoding="utf-8") == dump_of(tracker)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_dump_never_writes_over_the_database(tmp_path: Path) -> None:
    database = tmp_path / "mine.db"
    tracker = Tracker(str(database))
    tracker.ok("init", "--no-seed")
    size = database.stat().st_size
    result = tracker("dump", "--output", str(database))
    assert result.exit_code == 2
    assert result.stderr == f"Error: --output: {database} is the database itself; give another file\n"
    assert database.stat().st_size == size


def test_a_dump_to_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    Tracker(url).ok("init", "--no-seed")
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("id,name,country,chips,vendor,model,sources\n")
        for n in range(3000):
            handle.write(f"site-{n:05d},Site {n},FR,{n + 1},NVIDIA,H100,https://example.org/{n}\n")
    Tracker(url).ok("import", str(path))
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", url, "dump"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # the reader goes away, as `head -1` does
    with process.stderr:
        stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0
    assert json.loads(first)["type"] == "header"
    assert stderr == b""


# The nightly folder: the dump beside the CSV, and --keep.


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "exports"
    path.mkdir()
    return path


def test_the_folder_export_writes_the_days_dump_beside_the_csv(
    tracker: Tracker, history: list[str], folder: Path
) -> None:
    before = utc_today()
    written = [Path(line) for line in tracker.ok("export", "--output-dir", str(folder)).splitlines()]
    day = {before, utc_today()}
    assert [path.parent for path in written] == [folder] * 4
    names = [path.name for path in written]
    assert names[1::2] == ["tracker-lots-latest.csv", "tracker-dump-latest.jsonl"]
    assert re.fullmatch(r"tracker-lots-(.+)\.csv", names[0]).group(1) in {d.isoformat() for d in day}  # type: ignore[union-attr]
    assert names[2] == names[0].replace("lots", "dump").replace(".csv", ".jsonl")
    assert [path.read_text(encoding="utf-8") for path in written] == [tracker.export()] * 2 + [
        dump_of(tracker)
    ] * 2
    assert sorted(path.name for path in folder.iterdir()) == sorted(names)


def test_an_incremental_folder_export_writes_no_dump(
    tracker: Tracker, history: list[str], folder: Path
) -> None:
    written = tracker.ok("export", "--output-dir", str(folder), "--changed-since", "2099-01-01").split()
    assert [Path(path).name[:16] for path in written] == ["tracker-changes-"] * 2
    assert sorted(path.name for path in folder.iterdir()) == sorted(Path(path).name for path in written)


def _dated(folder: Path, stem: str, days_ago: int, suffix: str) -> Path:
    path = folder / f"{stem}-{(utc_today() - dt.timedelta(days=days_ago)).isoformat()}{suffix}"
    path.write_text("old", encoding="utf-8")
    return path


def test_keep_removes_the_dated_files_older_than_n_days_and_nothing_else(
    tracker: Tracker, folder: Path
) -> None:
    tracker.ok("add", "Site", "--country", "FR")
    old = [
        _dated(folder, "tracker-lots", 8, ".csv"),
        _dated(folder, "tracker-changes", 30, ".csv"),
        _dated(folder, "tracker-dump", 400, ".jsonl"),
    ]
    kept = [
        _dated(folder, "tracker-lots", 7, ".csv"),
        _dated(folder, "tracker-dump", 1, ".jsonl"),
        _dated(folder, "tracker-changes", -3, ".csv"),  # a future date, from a clock set wrong
        _dated(folder, "tracker-lots", 90, ".csv.bak"),
        _dated(folder, "my-tracker-lots", 90, ".csv"),
        _dated(folder, "tracker-dump", 90, ".json"),
        folder / "tracker-lots-2025-13-45.csv",
        folder / "notes.txt",
    ]
    for path in kept[-2:]:
        path.write_text("mine", encoding="utf-8")
    a_folder = folder / f"tracker-lots-{(utc_today() - dt.timedelta(days=50)).isoformat()}.csv"
    a_folder.mkdir()
    target = folder / "precious.txt"
    target.write_text("precious", encoding="utf-8")
    link = folder / f"tracker-dump-{(utc_today() - dt.timedelta(days=50)).isoformat()}.jsonl"
    link.symlink_to(target)
    result = tracker("export", "--output-dir", str(folder), "--keep", "7")
    assert result.exit_code == 0, result.stderr
    assert [Path(line).name for line in result.stdout.splitlines()][1::2] == [
        "tracker-lots-latest.csv", "tracker-dump-latest.jsonl",
    ]  # fmt: skip
    assert result.stderr == "".join(f"Removed {path} (older than 7 days).\n" for path in sorted(old))
    assert not any(path.exists() for path in old)
    assert all(path.exists() for path in kept)
    assert a_folder.is_dir()
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == "precious"
    assert (folder / "tracker-lots-latest.csv").exists()
    assert (folder / "tracker-dump-latest.jsonl").exists()


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "seven", "", "7d"])
def test_keep_must_be_a_whole_number_of_days(tracker: Tracker, folder: Path, value: str) -> None:
    old = _dated(folder, "tracker-lots", 30, ".csv")
    result = tracker("export", "--output-dir", str(folder), "--keep", value)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: Invalid value for '--keep': {value!r} is not a whole number of days; give 1 or more. "
        "See 'tracker export --help'.\n"
    )
    assert sorted(folder.iterdir()) == [old]


def test_keep_goes_with_output_dir(tracker: Tracker, folder: Path) -> None:
    result = tracker("export", "--keep", "3")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --keep goes with --output-dir.")


def test_a_version_1_dump_is_restored_its_operators_made_from_its_entries(
    tracker: Tracker, empty_db_url: str, history: list[str]
) -> None:
    # A dump as the tracker wrote it before operators, grades and verifications: version 1.
    added_fields = {
        "chip_vendor": ("country", "country_source"),
        "source": ("grade",),
        "entry": ("users", "first_online_start", "first_online_precision"),
    }
    lines = []
    for record in (json.loads(line) for line in dump_of(tracker).splitlines()):
        if record["type"] in ("operator", "operator_alias", "entry_verification"):
            continue
        if record["type"] == "header":
            record["version"] = 1
        if record["type"] == "end":
            for name in ("operator", "operator_alias", "entry_verification"):
                del record["records"][name]
        for name in added_fields.get(record["type"], ()):
            del record[name]
        lines.append(json.dumps(record, sort_keys=True, ensure_ascii=False))
    target = Tracker(empty_db_url)
    result = target("restore", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    # Every entry's operator is an operator; those the dump's entries name and the bundled
    # ones do not hold are made without a headquarters, as the upgrade of a database makes them.
    listed = {
        row["operator"]: row for row in csv.DictReader(io.StringIO(target.ok("operators", "--format", "csv")))
    }
    exported = list(csv.DictReader(io.StringIO(target.export())))
    assert {row["operator"] for row in exported if row["operator"]} <= set(listed)
    assert listed["Op A"]["hq_country"] == ""
    assert [row["users"] for row in exported] == [""] * len(exported)
    # Its first announced online periods are worked out from its history (tests/test_time.py).
    assert [row["first_online"] for row in exported] == [row["online"] for row in exported]
    ab_c = json.loads(target.ok("show", "ab-c", "--format", "json"))
    assert ab_c["verifications"] == []
    assert {source["grade"] for source in ab_c["sources"]} == {None}  # grades came with version 2
