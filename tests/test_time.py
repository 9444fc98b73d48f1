"""Issue 18, time you can trust: point-in-time totals that respect online dates, the first
announced online period and slippage, and diffs between two files."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tests.test_cli import database_contents
from tests.test_epoch import EPOCH_FILE
from tests.test_lifecycle import chips_by
from tests.test_schema import _database_at

SOURCE = ("--source", "https://example.org/s")


def add(tracker: Tracker, name: str, country: str, chips: str, *more: str) -> None:
    tracker.ok("add", name, "--country", country, "--chips", chips, "--vendor", "NVIDIA", *SOURCE, *more)


def known_history(tracker: Tracker) -> None:
    """Entries whose statuses and online periods are known, as on 2024-01-01 in the issue."""
    # Operational now, no status recorded: under construction until their online period begins.
    add(tracker, "Jupiter", "DE", "24000", "--status", "operational", "--online", "2025",
        "--announced", "2023-10-03")  # fmt: skip
    add(tracker, "Alps", "CH", "10752", "--status", "operational", "--online", "2024-09",
        "--announced", "2023-01-01")  # fmt: skip
    add(tracker, "Old", "FR", "1000", "--status", "operational", "--online", "2023-06",
        "--announced", "2022-01-01")  # fmt: skip
    # Recorded late: operational on 2024-02-01, but its online period begins 2024-06-01.
    add(tracker, "Early Claim", "IT", "300", "--online", "2024-06", "--announced", "2023-01-01")
    tracker.ok("status", "early-claim", "operational", "--on", "2024-02-01", *SOURCE)
    # Decommissioned now, online in 2023-Q3, no status recorded.
    add(tracker, "Retired", "ES", "50", "--status", "decommissioned", "--online", "2023-Q3",
        "--announced", "2022-06-01")  # fmt: skip
    # Planned, with no online period: unaffected.
    add(tracker, "Someday", "PL", "7", "--announced", "2023-02-01")


def test_as_of_counts_nothing_operational_before_its_online_period_begins(tracker: Tracker) -> None:
    known_history(tracker)
    on_new_year = chips_by(tracker, "--by", "status", "--as-of", "2024-01-01")
    # Jupiter (2025) and Alps (2024-09) had not begun: 24,000 + 10,752 = 34,752 under construction;
    # Early Claim's status then was the one it had before its first recorded move: announced.
    # Retired, decommissioned by then, is out of the planned total.
    assert on_new_year == {"under-construction": 24000 + 10752, "operational": 1000, "announced": 300 + 7}
    # Recorded as operational from 2024-02-01, but its online period begins 2024-06-01.
    assert chips_by(tracker, "--by", "status", "--as-of", "2024-03-01")["under-construction"] == (
        24000 + 10752 + 300
    )
    # A period that holds the day has begun: Jupiter ("2025") is operational on 2025-06-01.
    mid_2025 = chips_by(tracker, "--by", "status", "--as-of", "2025-06-01")
    assert mid_2025 == {"operational": 24000 + 10752 + 1000 + 300, "announced": 7}  # Retired: out
    # On 2023-04-01, Jupiter was not announced yet; Old (2023-06) had not begun, nor had
    # Retired (2023-Q3), which was not decommissioned then either: under construction.
    early = chips_by(tracker, "--by", "status", "--as-of", "2023-04-01", "--status", "under-construction")
    assert early == {"under-construction": 10752 + 1000 + 50}
    # Now: each as it is.
    assert chips_by(tracker, "--by", "status") == {"operational": 24000 + 10752 + 1000 + 300,
                                                   "announced": 7}  # fmt: skip


def test_as_of_a_lot_follows_its_own_online_period(tracker: Tracker) -> None:
    add(tracker, "Two Phase", "FR", "1000", "--status", "operational", "--online", "2023-01",
        "--announced", "2022-01-01")  # fmt: skip
    tracker.ok(
        "update", "two-phase", "--lot", "2", "--chips", "500", "--vendor", "AMD", "--online", "2025-H1"
    )
    assert chips_by(tracker, "--by", "status", "--as-of", "2024-06-01") == {
        "operational": 1000,
        "under-construction": 500,
    }
    assert chips_by(tracker, "--by", "status", "--as-of", "2025-01-01") == {"operational": 1000 + 500}


def test_timeline_and_sovereignty_follow_the_rule(tracker: Tracker) -> None:
    known_history(tracker)
    operational = ("--status", "operational", "--as-of", "2024-01-01", "--format", "csv")
    timeline = list(csv.DictReader(io.StringIO(tracker.ok("timeline", *operational))))
    assert sum(int(row["chips"]) for row in timeline) == 1000
    sovereignty = tracker.ok("sovereignty", *operational)
    rows = list(csv.DictReader(io.StringIO(sovereignty)))
    assert sum(int(row["chips"]) for row in rows if row[next(iter(row))] != "total") == 1000


def cells(table: str) -> list[list[str]]:
    """A table's rows below its header, as cells (columns are two spaces apart or more)."""
    return [re.split(r"\s{2,}", line.strip()) for line in table.strip().splitlines()[2:]]


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def slips_of(tracker: Tracker, *args: str) -> list[dict[str, str]]:
    return rows(tracker.ok("slips", "--today", "2025-12-04", *args, "--format", "csv"))


def moved_twice(tracker: Tracker) -> None:
    """An online period moved twice, each time on a source; one overdue; one told more precisely."""
    add(tracker, "Moving", "FR", "1000", "--online", "2025-Q4", "--announced", "2025-01-10")
    tracker.ok("update", "moving", "--online", "2026-H1", "--source", "https://example.org/h1")
    tracker.ok("update", "moving", "--online", "2026-Q3", "--source", "https://example.org/q3")
    add(tracker, "Stuck", "DE", "200", "--online", "2025-06", "--status", "planned")
    add(tracker, "Done", "IT", "30", "--online", "2025-03", "--status", "operational")
    add(tracker, "Dropped", "ES", "4", "--online", "2025-03", "--status", "cancelled")
    add(tracker, "Refined", "PL", "5", "--online", "2026")
    tracker.ok("update", "refined", "--online", "2026-Q4", "--source", "https://example.org/q4")


def test_an_entry_keeps_its_first_online_period_when_update_moves_it(tracker: Tracker) -> None:
    moved_twice(tracker)
    cells = {row["id"]: (row["first_online"], row["online"]) for row in rows(tracker.export())}
    assert cells["moving"] == ("2025-Q4", "2026-Q3")
    assert cells["refined"] == ("2026", "2026-Q4")
    assert re.search(r"\nonline +2026-Q3 \(first due 2025-Q4\)\n", tracker.ok("show", "moving"))


def test_slips_lists_moves_and_overdue_periods_by_how_long_with_each_dates_source(tracker: Tracker) -> None:
    moved_twice(tracker)
    found = slips_of(tracker)
    # Moving: from 2025-Q4 (ends 2025-12-31) to 2026-Q3 (ends 2026-09-30): 31+28+31+30+31+30+31+31+30
    # = 273 days. Stuck: 2025-06 ended 2025-06-30, planned on 2025-12-04: 31+31+30+31+30+4 = 157.
    # Done (operational), Dropped (cancelled) and Refined (2026 to 2026-Q4: the same last day) are not late.
    assert [
        (r["entry"], r["first_online"], r["online"], r["moved_days"], r["overdue_days"]) for r in found
    ] == [
        ("moving", "2025-Q4", "2026-Q3", str(31 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30), ""),
        ("stuck", "2025-06", "2025-06", "", str(31 + 31 + 30 + 31 + 30 + 4)),
    ]
    assert (found[0]["first_source"], found[0]["online_source"]) == (SOURCE[1], "https://example.org/q3")
    assert (found[1]["first_source"], found[1]["online_source"]) == (SOURCE[1], SOURCE[1])
    assert [row["entry"] for row in slips_of(tracker, "--country", "DE")] == ["stuck"]


def test_an_import_that_moves_a_period_keeps_the_first_one(tracker: Tracker, tmp_path: Path) -> None:
    add(tracker, "Moving", "FR", "1000", "--online", "2025-Q4")
    exported = tracker.export()
    # A file without the first_online column, and the export with it emptied: neither clears it.
    without = tmp_path / "without.csv"
    without.write_text(
        "id,name,country,online,sources\nmoving,Moving,FR,2026-Q2,https://example.org/f\n", encoding="utf-8"
    )
    tracker.ok("import", str(without), "--on-conflict", "update")
    emptied = tmp_path / "emptied.csv"
    table = rows(exported)
    for row in table:
        row["first_online"], row["online"] = "", "2026-Q3"
    with emptied.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    tracker.ok("import", str(emptied), "--on-conflict", "update")
    assert [(row["first_online"], row["online"]) for row in rows(tracker.export())] == [
        ("2025-Q4", "2026-Q3")
    ]
    found = slips_of(tracker)
    assert (found[0]["first_online"], found[0]["online_source"]) == ("2025-Q4", SOURCE[1])
    # A file that gives it sets it; so does `update --first-online`, for an entry recorded late.
    tracker.ok("update", "moving", "--first-online", "2025-Q2", "--source", "https://example.org/first")
    found = slips_of(tracker)
    assert (found[0]["first_online"], found[0]["first_source"]) == ("2025-Q2", "https://example.org/first")


def test_a_new_entry_or_an_entry_given_its_first_period_starts_there(
    tracker: Tracker, tmp_path: Path
) -> None:
    tracker.ok("add", "Later", "--country", "FR", *SOURCE)
    tracker.ok("update", "later", "--online", "2026-Q1")
    tracker.ok("update", "later", "--online", "2026-Q2")
    path = tmp_path / "new.csv"
    path.write_text("id,name,country,online\nfresh,Fresh,DE,2027\n", encoding="utf-8")
    tracker.ok("import", str(path))
    cells = {row["id"]: (row["first_online"], row["online"]) for row in rows(tracker.export())}
    assert cells == {"later": ("2026-Q1", "2026-Q2"), "fresh": ("2027", "2027")}
    # Removed and added again, an entry is a new record: its first period is the one it is given.
    tracker.ok("remove", "later", "--yes")
    tracker.ok("add", "Later", "--country", "FR", "--online", "2026-Q3", *SOURCE)
    assert rows(tracker.export())[1]["first_online"] == "2026-Q3"


def test_summary_by_schedule_and_the_timeline_beside_first_announced(tracker: Tracker) -> None:
    moved_twice(tracker)
    add(tracker, "Undated", "NL", "6")
    add(tracker, "Sooner", "BE", "7", "--online", "2026-Q4")
    tracker.ok("update", "sooner", "--online", "2026-Q1")
    # Done's 30 (operational) and Stuck's 200 are as announced; Dropped (cancelled) is out.
    assert chips_by(tracker, "--by", "schedule") == {
        "moved later": 1000,
        "as announced": 200 + 30 + 5,
        "moved earlier": 7,
        "undated": 6,
    }
    timeline = rows(tracker.ok("timeline", "--first-announced", "--format", "csv"))
    pairs = {row["period"]: (int(row["chips"]), int(row["first_chips"])) for row in timeline}
    assert pairs == {
        "2025-Q1": (30, 30),
        "2025-Q2": (200, 200),
        "2025-Q4": (0, 1000),  # Moving was first due here
        "2026-Q1": (7, 0),
        "2026-Q3": (1000, 0),
        "2026-Q4": (5, 7),  # Refined is now due in 2026-Q4; Sooner was first due there
        "2026": (0, 5),  # Refined was first announced for 2026
        "undated": (6, 6),
    }
    assert [row["period"] for row in timeline] == list(pairs)  # in time order, undated last


def test_a_dump_made_before_first_periods_were_kept_restores_them_from_history(
    tracker: Tracker, empty_db_url: str
) -> None:
    moved_twice(tracker)
    tracker.ok("add", "Late Date", "--country", "NL", *SOURCE)
    tracker.ok("update", "late-date", "--online", "2026-Q1")
    tracker.ok("update", "late-date", "--online", "2026-Q2")
    lines = []
    for record in map(json.loads, tracker.ok("dump").splitlines()):
        record.pop("first_online_start", None)  # as a dump written before the field was added
        record.pop("first_online_precision", None)
        lines.append(json.dumps(record, sort_keys=True, ensure_ascii=False))
    target = Tracker(empty_db_url)
    target.ok("restore", "-", input="\n".join(lines) + "\n")
    firsts = {row["id"]: row["first_online"] for row in rows(target.export())}
    # From each entry's first edit of its online period: the period it replaced, else the one it gave.
    assert firsts == {"moving": "2025-Q4", "refined": "2026", "late-date": "2026-Q1", "stuck": "2025-06",
                      "done": "2025-03", "dropped": "2025-03"}  # fmt: skip
    assert target.ok("dump") == tracker.ok("dump")


def test_the_upgrade_gives_each_entry_its_first_period_from_its_history(empty_db_url: str) -> None:
    entry = (
        "INSERT INTO entry (id, name, country, status, online_start, online_precision, created_at, "
        "updated_at) VALUES ('{0}', '{0}', 'FR', 'announced', {1}, '2025-01-01 00:00:00', "
        "'2025-01-01 00:00:00')"
    )
    edit = (
        "INSERT INTO entry_change (entry_id, field, old_value, new_value, changed_at) "
        "VALUES ('{0}', 'online', {1}, {2}, '{3}')"
    )
    statements = [
        entry.format("moved", "'2026-07-01', 'quarter'"),
        edit.format("moved", "'2025-Q4'", "'2026-H1'", "2025-03-01 00:00:00"),
        edit.format("moved", "'2026-H1'", "'2026-Q3'", "2025-06-01 00:00:00"),
        entry.format("given-late", "'2026-04-01', 'quarter'"),
        edit.format("given-late", "NULL", "'2026-01'", "2025-03-01 00:00:00"),
        edit.format("given-late", "'2026-01'", "'2026-Q2'", "2025-04-01 00:00:00"),
        entry.format("still", "'2027-01-01', 'year'"),
        entry.format("undated", "NULL, NULL"),
    ]
    _database_at(empty_db_url, "0008", statements).dispose()
    tracker = Tracker(empty_db_url)
    tracker.ok("init", "--no-seed")
    firsts = {row["id"]: row["first_online"] for row in rows(tracker.export())}
    assert firsts == {"moved": "2025-Q4", "given-late": "2026-01", "still": "2027", "undated": ""}


# tracker diff, and the import's dry run that lists the same changes.


def edited_epoch_copy(path: Path) -> None:
    """Epoch's real file with a row removed, one added, a chip count and a status changed."""
    with EPOCH_FILE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, epoch_rows = list(reader.fieldnames or []), list(reader)
    kept = []
    for row in epoch_rows:
        if row["Name"] == "Nebius ISEG2":  # 4,992 H200 in Iceland
            continue
        if row["Name"] == "Nebius Finland Phase 2":  # 60,000 planned H100
            assert (row["Chip quantity (primary)"], row["Total number of AI chips"]) == ("60000", "60000")
            row["Chip quantity (primary)"] = row["Total number of AI chips"] = "65000"
        if row["Name"] == "Nebius Kansas City Phase 2":
            assert row["Status"] == "Planned"
            row["Status"] = "Existing"
        kept.append(row)
    model = next(row for row in epoch_rows if row["Name"] == "Nebius Kansas City Phase 1")
    added = {**model, "Name": "Nebius Test Site", "Country": "Norway"}
    added["Chip quantity (primary)"] = added["Total number of AI chips"] = "1000"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows([*kept, added])


@pytest.mark.slow
def test_diff_of_two_epoch_releases_lists_exactly_what_was_edited(tmp_path: Path) -> None:
    edited = tmp_path / "edited.csv"
    edited_epoch_copy(edited)
    runner = Tracker(None)
    result = runner("diff", "--from", "epoch", str(EPOCH_FILE), str(edited), "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert [
        (c["entry"], c["change"], c["field"], c["lot"], c["old"], c["new"]) for c in found["changes"]
    ] == [
        ("nebius-finland-phase-2", "changed", "chips", "1", "60000", "65000"),
        ("nebius-iseg2", "removed", "", "", "Nebius ISEG2, IS, 4,992 chips", ""),
        ("nebius-kansas-city-phase-2", "changed", "status", "", "planned", "operational"),
        ("nebius-test-site", "added", "", "", "", "Nebius Test Site, NO, 1,000 chips"),
    ]
    assert (found["added"], found["removed"], found["changed"]) == (1, 1, 2)
    net = {row["country"]: row["net_chips"] for row in found["net_chips"]["country"]}
    assert net == {"FI": 65000 - 60000, "IS": -4992, "NO": 1000}
    assert [(row["vendor"], row["net_chips"]) for row in found["net_chips"]["vendor"]] == [
        ("NVIDIA", 5000 - 4992 + 1000)
    ]
    # Rows with problems are left out of both sides, as `import --skip-invalid` leaves them out.
    assert result.stderr.count("with problems left out") == 2
    same = runner("diff", "--from", "epoch", str(EPOCH_FILE), str(EPOCH_FILE), "--format", "csv")
    assert (same.exit_code, same.stdout) == (0, "entry,name,change,field,lot,old,new\n")


def history_of_changes(tracker: Tracker) -> None:
    """After the first export: an entry added, one removed, one's chips, status and period changed,
    a lot added, a chip of a vendor of this database's own catalogue."""
    tracker.ok("add", "Gone", "--country", "IT", "--chips", "300", "--vendor", "AMD", *SOURCE)
    tracker.ok("chips", "add", "Acme", "X1", "--new-vendor")
    add(tracker, "Kept", "FR", "1000", "--online", "2026-Q1")
    tracker.ok("update", "kept", "--lot", "2", "--chips", "50", "--vendor", "Acme", "--model", "X1")


def changed_later(tracker: Tracker) -> None:
    tracker.ok("remove", "gone", "--yes")
    add(tracker, "New", "DE", "700")
    tracker.ok("update", "kept", "--lot", "1", "--chips", "1200")
    tracker.ok("update", "kept", "--online", "2026-Q3")
    tracker.ok("update", "kept", "--lot", "3", "--chips", "9", "--vendor", "AMD")
    tracker.ok("status", "kept", "under-construction", "--on", "2025-11-01", *SOURCE)


EXPECTED_CHANGES = [
    ["gone", "Gone", "removed", "", "", "Gone, IT, 300 chips", ""],
    ["kept", "Kept", "changed", "status", "", "announced", "under-construction"],
    ["kept", "Kept", "changed", "online", "", "2026-Q1", "2026-Q3"],
    ["kept", "Kept", "changed", "chips", "1", "1000", "1200"],
    ["kept", "Kept", "changed", "vendor", "3", "", "AMD"],
    ["kept", "Kept", "changed", "chips", "3", "", "9"],
    ["kept", "Kept", "changed", "qualifier", "3", "", "exact"],
    ["new", "New", "added", "", "", "", "New, DE, 700 chips"],
]


def test_diff_of_two_exports_and_of_two_dumps_lists_the_same_changes(
    tracker: Tracker, tmp_path: Path
) -> None:
    history_of_changes(tracker)
    old, old_dump = tmp_path / "old.csv", tmp_path / "old.jsonl"
    old.write_text(tracker.export(), encoding="utf-8")
    old_dump.write_text(tracker.ok("dump"), encoding="utf-8")
    changed_later(tracker)
    new, new_dump = tmp_path / "new.csv", tmp_path / "new.jsonl"
    # The new export sorted by another column, its rows of one entry apart: read all the same.
    header, *lines = tracker.export().splitlines(keepends=True)
    new.write_text(header + "".join(sorted(lines, key=lambda line: line.split(",")[-1])), encoding="utf-8")
    new_dump.write_text(tracker.ok("dump"), encoding="utf-8")
    for before, after in ((old, new), (old_dump, new_dump)):
        result = tracker("diff", str(before), str(after), "--format", "csv")
        assert result.exit_code == 0, result.stderr
        assert list(csv.reader(io.StringIO(result.stdout)))[1:] == EXPECTED_CHANGES
        assert result.stderr == "1 added, 1 removed, 1 changed (entries).\n"
    net = json.loads(tracker.ok("diff", str(old), str(new), "--format", "json"))["net_chips"]
    # IT loses Gone's 300; FR gains 200 on Kept's lot 1 and 9 on its lot 3; DE gains New's 700.
    assert [(row["country"], row["net_chips"]) for row in net["country"]] == [
        ("DE", 700), ("IT", -300), ("FR", 200 + 9)
    ]  # fmt: skip
    assert [(row["vendor"], row["net_chips"]) for row in net["vendor"]] == [
        ("NVIDIA", 200 + 700),
        ("AMD", -300 + 9),
    ]
    assert tracker.ok("diff", str(new), str(new)) == "No entry was added, removed or changed.\n"
    result = tracker("diff", str(old), str(new_dump))
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: NEW: is a dump and OLD an export; give two files of one kind\n",
    )
    result = tracker("diff", str(old), str(tmp_path / "missing.csv"))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "missing.csv" in result.stderr


def test_an_imports_dry_run_lists_what_it_would_change_as_diff_does(
    tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    history_of_changes(tracker)
    old = tmp_path / "old.csv"
    old.write_text(tracker.export(), encoding="utf-8")
    dumped = tracker.ok("dump")
    changed_later(tracker)
    new = tmp_path / "new.csv"
    new.write_text(tracker.export(), encoding="utf-8")
    # The old state in another database: importing the new file there would make every change
    # but the removal (an import removes nothing).
    other = Tracker(empty_db_url)
    other.ok("restore", "-", input=dumped)
    before = database_contents(other)
    result = other("import", str(new), "--dry-run", "--on-conflict", "update")
    assert result.exit_code == 0, result.stderr
    assert database_contents(other) == before
    listed = tracker.ok("diff", str(old), str(new)).split("\nPlanned chips")[0]
    would = result.stdout.split("\nPlanned chips")[0]
    assert cells(would) == [row for row in cells(listed) if row[0] != "gone"]
    assert "IT " not in result.stdout  # Gone's chips stay
    assert result.stdout.endswith("1 added, 1 updated, 0 unchanged\n")


def test_diff_reads_standard_input_and_a_pipe_and_names_the_side_of_a_problem(
    tracker: Tracker, tmp_path: Path
) -> None:
    history_of_changes(tracker)
    old = tmp_path / "old.csv"
    old.write_text(tracker.export(), encoding="utf-8")
    changed_later(tracker)
    new_text = tracker.export()
    from_stdin = tracker("diff", str(old), "-", "--format", "csv", input=new_text)
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert list(csv.reader(io.StringIO(from_stdin.stdout)))[1:] == EXPECTED_CHANGES
    piped = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m tracker diff "{old}" <(cat) --format csv'],
        input=new_text, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (piped.returncode, piped.stdout) == (0, from_stdin.stdout)
    assert tracker("diff", "-", "-", input=new_text).stderr == (
        "Error: NEW: standard input (-) can be one of the two files, not both\n"
    )
    missing = tracker("diff", str(tmp_path / "nowhere.csv"), str(old))
    assert (missing.exit_code, missing.stderr) == (
        2,
        f"Error: OLD: {tmp_path / 'nowhere.csv'} does not exist\n",
    )
    huge = tmp_path / "huge.csv"
    huge.write_text("id,name,country\nx," + "a" * 200_000 + ",DE\n", encoding="utf-8")
    result = tracker("diff", str(old), str(huge))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {huge}: 1 problem; it cannot be compared"


def test_diff_gives_text_as_entered_and_reads_a_catalogue_of_the_databases_own(
    tracker: Tracker, tmp_path: Path
) -> None:
    tracker.ok("chips", "add", "Zeta Chips", "Z2", "--new-vendor", "--per-server", "4", "--source", "ds")
    old = tmp_path / "old.csv"
    old.write_text(tracker.export(), encoding="utf-8")
    tracker.ok("add", "=SUM(1)", "--id", "formula", "--country", "FR", *SOURCE)
    tracker.ok("add", "Zeta site", "--country", "DE", "--chips", "10", "--unit", "server", "--vendor",
               "zeta chips", "--model", "z2", *SOURCE)  # fmt: skip
    new = tmp_path / "new.csv"
    new.write_text(tracker.export(), encoding="utf-8")
    found = json.loads(tracker.ok("diff", str(old), str(new), "--format", "json"))
    # 10 servers of 4 Z2 each: 40 accelerators, the figure of this database's own catalogue.
    assert [(c["entry"], c["name"], c["new"]) for c in found["changes"]] == [
        ("formula", "=SUM(1)", "=SUM(1), FR, no chip count"),
        ("zeta-site", "Zeta site", "Zeta site, DE, 40 chips"),
    ]
    assert found["net_chips"]["vendor"] == [
        {"vendor": "Zeta Chips", "old_chips": 0, "new_chips": 10 * 4, "net_chips": 40,
         "old_qualifier": "exact", "new_qualifier": "exact"}
    ]  # fmt: skip
    listed = tracker.ok("diff", str(old), str(new), "--format", "csv")
    assert "formula,'=SUM(1),added" in listed  # made inert for spreadsheets once, as the export does


def test_schedule_and_slips_follow_the_entrys_own_period_and_an_emptied_first_is_its_online(
    tracker: Tracker,
) -> None:
    add(tracker, "Beta", "FR", "500", "--online", "2024", "--status", "operational")
    tracker.ok("update", "beta", "--lot", "2", "--chips", "700", "--vendor", "AMD", "--online", "2026-H1")
    # The entry's period never moved: all of its chips are as announced, and it is not late.
    assert chips_by(tracker, "--by", "schedule") == {"as announced": 500 + 700}
    assert slips_of(tracker) == []
    tracker.ok("update", "beta", "--online", "2025")
    tracker.ok("update", "beta", "--first-online", "")
    # Emptied, the first period is the online one, and the history says so.
    assert rows(tracker.export())[0]["first_online"] == "2025"
    edits = json.loads(tracker.ok("show", "beta", "--format", "json"))["edits"]
    assert (edits[-1]["field"], edits[-1]["old"], edits[-1]["new"]) == ("first_online", "2024", "2025")


def test_check_finds_an_entry_operational_before_its_online_period_begins(tracker: Tracker) -> None:
    add(tracker, "Too Soon", "FR", "10", "--status", "operational", "--online", "2099")
    add(tracker, "In Time", "DE", "10", "--status", "operational", "--online", "2025")
    result = tracker("check", "--format", "csv")
    found = [row for row in rows(result.stdout) if "has not begun" in row["problem"]]
    assert found == [
        {
            "entry": "too-soon",
            "problem": "is operational, but its online period 2099 has not begun (--as-of counts it as under "
            "construction until then): correct one or the other",
        }
    ]


def test_diff_of_exports_filtered_by_place_reads_parts_without_their_programme(
    tracker: Tracker, tmp_path: Path
) -> None:
    tracker.ok("add", "Plan", "--kind", "programme", "--scope", "europe", "--chips", "5000", "--vendor",
               "NVIDIA", *SOURCE)  # fmt: skip
    add(tracker, "Berlin", "DE", "1000", "--parent", "plan")
    add(tracker, "Paris", "FR", "2000", "--parent", "plan")
    old = tmp_path / "old.csv"
    old.write_text(tracker.ok("export", "--country", "DE", "--output", "-"), encoding="utf-8")
    tracker.ok("update", "berlin", "--chips", "1500")
    new = tmp_path / "new.csv"
    new.write_text(tracker.ok("export", "--country", "DE", "--output", "-"), encoding="utf-8")
    result = tracker("diff", str(old), str(new), "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert [(c["entry"], c["field"], c["old"], c["new"]) for c in found["changes"]] == [
        ("berlin", "chips", "1000", "1500")
    ]
    # The summary of DE gives Berlin's chips, as the files compared without the plan do.
    assert (
        tracker.ok("summary", "--country", "DE", "--format", "csv")
        .splitlines()[1]
        .startswith("DE,NVIDIA,1,1500,")
    )
    assert [
        (row["country"], row["old_chips"], row["new_chips"]) for row in found["net_chips"]["country"]
    ] == [("DE", 1000, 1500)]
    assert result.stderr.count("1 entry is a part of a programme the file does not hold") == 2


def test_a_date_told_more_precisely_is_as_announced_and_a_withdrawn_one_can_be_late(tracker: Tracker) -> None:
    add(tracker, "Within", "FR", "10", "--online", "2026")
    tracker.ok("update", "within", "--online", "2026-Q1")  # within 2026: told more precisely
    add(tracker, "Before", "DE", "20", "--online", "2026")
    tracker.ok("update", "before", "--online", "2025-Q4")  # ends before 2026 began
    add(tracker, "Withdrawn", "IT", "30", "--online", "2025-Q2")
    tracker.ok("update", "withdrawn", "--online", "", "--source", "https://example.org/no-date")
    tracker.ok("update", "within", "--source", "https://example.org/more")
    assert chips_by(tracker, "--by", "schedule") == {"as announced": 10, "moved earlier": 20, "undated": 30}
    # Withdrawn was first due by 2025-06-30; on 2025-12-04 that is 31+31+30+31+30+4 = 157 days past.
    found = slips_of(tracker)
    assert [(r["entry"], r["online"], r["overdue_days"], r["online_source"]) for r in found] == [
        ("withdrawn", "", str(31 + 31 + 30 + 31 + 30 + 4), "https://example.org/no-date")
    ]


def test_diff_gives_the_sources_removed_and_added(tracker: Tracker, tmp_path: Path) -> None:
    add(tracker, "Site", "FR", "10", "--source", "https://example.org/b")
    old = tmp_path / "old.csv"
    old.write_text(tracker.export(), encoding="utf-8")
    tracker.ok("update", "site", "--source", "https://example.org/c")
    new = tmp_path / "new.csv"
    new.write_text(tracker.export(), encoding="utf-8")
    found = json.loads(tracker.ok("diff", str(old), str(new), "--format", "json"))
    assert [(c["field"], c["old"], c["new"]) for c in found["changes"]] == [
        ("sources", "", "https://example.org/c")
    ]


def test_a_scratch_database_that_fails_is_named_as_the_files_not_the_users(
    tracker: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from tracker.service import diffing

    def full(*_: object, **__: object) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(diffing, "initialise", full)
    old = tmp_path / "old.csv"
    old.write_text(tracker.export(), encoding="utf-8")
    result = tracker("diff", str(old), str(old))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {old} cannot be compared: ")
    assert result.stderr.count("\n") == 1
    assert str(tmp_path / "user-data") not in result.stderr
    assert list(tmp_path.glob("**/tracker-diff-*")) == []
