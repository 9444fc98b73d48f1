"""Issue 4, lifecycle and provenance: confidence, status history, sources."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from tests.conftest import Tracker, chip_lines, export_cells
from tests.test_cli import database_contents


def add_confidences(tracker: Tracker) -> None:
    for name, confidence, chips in (
        ("Sure", "confirmed", "100"),
        ("Heard", "reported", "20"),
        ("Whisper", "rumoured", "3"),
        ("Unsaid", "", "7000"),
    ):
        extra = ["--confidence", confidence] if confidence else []
        tracker.ok("add", name, "--country", "FR", "--chips", chips, "--vendor", "AMD", *extra)


def chips_by(tracker: Tracker, *args: str) -> dict[str, int]:
    out = tracker.ok("summary", *args, "--format", "csv")
    return {row[next(iter(row))]: int(row["chips"]) for row in csv.DictReader(io.StringIO(out))}


def test_confirmed_only_and_all_inclusive_totals_side_by_side(tracker: Tracker) -> None:
    add_confidences(tracker)
    assert chips_by(tracker, "--by", "confidence") == {
        "": 7000,
        "confirmed": 100,
        "reported": 20,
        "rumoured": 3,
    }
    assert chips_by(tracker, "--by", "country", "--min-confidence", "confirmed") == {"FR": 100}
    assert chips_by(tracker, "--by", "country", "--min-confidence", "reported") == {"FR": 120}
    assert chips_by(tracker, "--by", "country", "--min-confidence", "rumoured") == {"FR": 123}
    assert chips_by(tracker, "--by", "country") == {"FR": 7123}
    table = tracker.ok("summary", "--by", "confidence")
    assert "(not given)" in table


def test_min_confidence_filters_list_and_export_too(tracker: Tracker) -> None:
    add_confidences(tracker)
    listed = tracker.ok("list", "--min-confidence", "Reported", "--format", "csv")
    assert [row["id"] for row in csv.DictReader(io.StringIO(listed))] == ["heard", "sure"]
    exported = tracker.ok("export", "--min-confidence", "confirmed")
    assert [row["id"] for row in csv.DictReader(io.StringIO(exported))] == ["sure"]


def test_an_unknown_confidence_level_is_refused(tracker: Tracker) -> None:
    before = database_contents(tracker)
    result = tracker("summary", "--min-confidence", "certain")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --min-confidence: unknown confidence 'certain'; use one of: confirmed, reported, rumoured\n",
    )
    assert database_contents(tracker) == before


def test_a_status_change_is_recorded_with_its_day_and_source(seeded_tracker: Tracker) -> None:
    result = seeded_tracker(
        "status", "nebius-uk", "operational", "--on", "2025-12-01", "--source", "https://example.org/live"
    )
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "nebius-uk: announced -> operational on 2025-12-01.\n"
    shown = seeded_tracker.ok("show", "nebius-uk")
    assert "status      operational" in shown
    assert shown.splitlines()[-1].split() == [
        "2025-12-01",
        "announced",
        "operational",
        "https://example.org/live",
    ]
    assert "https://example.org/live" in seeded_tracker.ok("sources", "nebius-uk", "--format", "csv")
    row = next(r for r in csv.DictReader(io.StringIO(seeded_tracker.export())) if r["id"] == "nebius-uk")
    assert row["status"] == "operational"


def test_a_change_recorded_late_for_an_earlier_day_leaves_the_later_one_in_force(
    seeded_tracker: Tracker,
) -> None:
    seeded_tracker.ok(
        "status", "nebius-uk", "operational", "--on", "2025-12-01", "--source", "https://a.example"
    )
    result = seeded_tracker(
        "status",
        "nebius-uk",
        "under-construction",
        "--on",
        "2025-09-01",
        "--unsourced",
        "--note",
        "late news",
    )
    assert result.stderr == (
        "nebius-uk: announced -> under-construction on 2025-09-01; a later change keeps it operational.\n"
    )
    history = seeded_tracker.ok("show", "nebius-uk", "--format", "json")
    assert '"status": "operational"' in history
    lines = seeded_tracker.ok("show", "nebius-uk").splitlines()
    assert lines[-2].split() == [
        "2025-09-01",
        "announced",
        "under-construction",
        "(unsourced)",
        "late",
        "news",
    ]
    # The later change now follows the one recorded late: its "from" is what the days say.
    assert lines[-1].split() == ["2025-12-01", "under-construction", "operational", "https://a.example"]


# Refused commands: arguments, exit code, the whole of standard error.
REFUSED = [
        (["status", "nebius-uk", "operational", "--on", "2025-12-01"], 2,
         "Error: --source: is needed for a status change; give one, or --unsourced to record it without\n"),
        (["status", "nebius-uk", "live", "--on", "2099-12-01", "--unsourced"], 2,
         "Error: NEW_STATUS: unknown status 'live'; use one of: announced, planned, under-construction, "
         "operational, paused, cancelled, decommissioned; --on: 2099-12-01 is in the future; give a day that "
         "has passed\n"),
        (["status", "nebius-uk", "paused", "--on", "2025-12-01", "--unsourced", "--source", "x.org"], 2,
         "Error: --unsourced: goes without --source; give one or the other\n"),
        (["status", "nebius-uk", "announced", "--on", "2025-12-01", "--unsourced"], 2,
         "Error: NEW_STATUS: nebius-uk is announced already on 2025-12-01; nothing to record\n"),
        (["status", "nowhere", "paused", "--on", "2025-12-01", "--unsourced"], 1,
         "Error: no entry with id 'nowhere'; `tracker list` shows the ids\n"),
        (["update", "nebius-uk"], 2,
         "Error: give a field to change, such as --chips, or a --source to add\n"),
        (["update", "nebius-uk", "--name", ""], 2, "Error: --name: cannot be emptied; every entry has one\n"),
        (["update", "nebius-uk", "--country", "Frnace", "--chips", "-1"], 2,
         "Error: --country: unknown country 'Frnace'; did you mean France (FR)? Use an ISO 3166-1 code "
         "(FR, FRA) or an English name (France)\n"),
        (["update", "nowhere", "--city", "X"], 1,
         "Error: no entry with id 'nowhere'; `tracker list` shows the ids\n"),
        (["update", "nebius-uk", "--lot", "3", "--chips", "10"], 2,
         "Error: --vendor: is needed for a new chip lot; use `unknown` when it was not disclosed\n"),

]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "message"), REFUSED)
def test_bad_status_and_update_input_is_refused_and_changes_nothing(
    seeded_tracker: Tracker, args: list[str], code: int, message: str
) -> None:
    before = database_contents(seeded_tracker)
    result = seeded_tracker(*args)
    assert (result.exit_code, result.stderr) == (code, message)
    assert database_contents(seeded_tracker) == before


def test_list_unsourced_shows_the_entries_without_any_source(seeded_tracker: Tracker) -> None:
    seeded_tracker.ok("add", "No source", "--country", "FR")
    seeded_tracker.ok("add", "With source", "--country", "FR", "--source", "https://example.org/w")
    listed = seeded_tracker.ok("list", "--unsourced", "--format", "csv")
    assert [row["id"] for row in csv.DictReader(io.StringIO(listed))] == ["no-source"]


def test_as_of_gives_the_pipeline_as_it_stood_before_between_and_after_status_moves(tracker: Tracker) -> None:
    tracker.ok(
        "add", "A", "--country", "FR", "--chips", "1000", "--vendor", "AMD", "--announced", "2025-01-01"
    )
    tracker.ok(
        "add", "B", "--country", "DE", "--chips", "200", "--vendor", "AMD", "--announced", "2025-04-01"
    )
    tracker.ok("add", "Undated", "--country", "IT", "--chips", "30", "--vendor", "AMD")
    for entry, status, day in (
        ("a", "operational", "2025-06-01"),
        ("b", "cancelled", "2025-05-01"),
        ("a", "under-construction", "2025-03-01"),  # recorded late, for an earlier day
    ):
        tracker.ok("status", entry, status, "--on", day, "--source", f"https://example.org/{entry}/{status}")

    def by_status(day: str) -> dict[str, int]:
        return chips_by(tracker, "--by", "status", "--as-of", day)

    assert by_status("2024-12-31") == {}
    assert by_status("2025-01-01") == {"announced": 1000}
    assert by_status("2025-03-01") == {"under-construction": 1000}
    assert by_status("2025-04-15") == {"under-construction": 1000, "announced": 200}
    assert by_status("2025-05-01") == {"under-construction": 1000}  # B cancelled: out of the total
    assert by_status("2025-06-01") == {"operational": 1000}
    assert chips_by(tracker, "--by", "status") == {"operational": 1000, "announced": 30}
    cancelled = chips_by(tracker, "--by", "country", "--as-of", "2025-05-01", "--status", "cancelled")
    assert cancelled == {"DE": 200}
    result = tracker("summary", "--as-of", "2099-01-01")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --as-of: 2099-01-01 is in the future; give a day that has passed\n",
    )


def test_check_finds_each_kind_of_problem(tracker: Tracker, tmp_path: Path) -> None:
    src = ("--source", "https://example.org/s")
    tracker.ok("add", "No Source", "--country", "PT")
    tracker.ok("add", "Early", "--country", "ES", "--announced", "2025-06-11", "--online", "Q1 2025", *src)
    tracker.ok("add", "Back", "--country", "IT", "--announced", "2025-01-01", *src)
    tracker.ok("status", "back", "operational", "--on", "2025-03-01", *src)
    tracker.ok("status", "back", "planned", "--on", "2025-04-01", *src)
    tracker.ok("add", "Explained", "--country", "GR", "--announced", "2025-01-01", *src)
    tracker.ok("status", "explained", "operational", "--on", "2025-03-01", *src)
    tracker.ok("status", "explained", "planned", "--on", "2025-04-01", *src, "--note", "commissioning failed")
    for name, chips in (("Site One", "1000"), ("Site Two", "1050"), ("Site Three", "5000")):
        tracker.ok(
            "add", name, "--country", "FR", "--operator", "Acme", "--chips", chips, "--vendor", "AMD", *src
        )
    path = tmp_path / "programme.csv"
    path.write_text(
        "id,name,country,kind,parent,chips,vendor,sources\n"
        "plan,Plan,DE,programme,,100,NVIDIA,https://example.org/p\n"
        "part,Part,DE,factory,plan,200,NVIDIA,https://example.org/p\n",
        encoding="utf-8",
    )
    tracker.ok("import", str(path))
    tracker.ok(
        "add", "Live", "--country", "NL", "--status", "operational", "--source", "https://blog.example"
    )
    tracker.ok("add", "Told", "--country", "BE", "--confidence", "confirmed", *src, "--grade", "secondary")
    tracker.ok(
        "add", "Sure", "--country", "LU", "--confidence", "confirmed", "--source", "p", "--grade", "press"
    )
    result = tracker("check", "--format", "csv")
    assert result.exit_code == 1
    assert result.stderr == "9 problems found.\n"
    weak = "without a primary or press source (its sources are secondary or not graded); `tracker update"
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["entry", "problem"],
        ["back", "moved back from operational to planned on 2025-04-01 without a note saying why"],
        ["early", "comes online in 2025-Q1, before it was announced on 2025-06-11"],
        [
            "early",
            "was due online in 2025-Q1, which ended on 2025-03-31, and is still announced: record what "
            "happened (`tracker status`), or its new date (`tracker update --online`)",
        ],
        ["live", f"is operational {weak} live --source URL --grade press` adds or grades one"],
        ["no-source", "has no source; every figure needs one (tracker update --source adds one)"],
        ["part", "has 200 chips, more than the 100 of its programme plan"],
        [
            "site-one",
            "its operator 'Acme' has no known headquarters (and 2 more of its entries); its chips count as "
            "unknown in `tracker sovereignty`: `tracker operators set Acme --hq C --source URL` gives one",
        ],
        ["site-one", "may be the same as site-two (same country and operator, 1,000 and 1,050 chips)"],
        ["told", f"is confirmed {weak} told --source URL --grade press` adds or grades one"],
    ]
    # Given a headquarters, the operator is no problem; with --stale-after, entries never
    # verified since recorded today are not stale yet, and one verified long ago is.
    tracker.ok("operators", "set", "Acme", "--hq", "FR", "--source", "https://acme.example/about")
    tracker.ok("verify", "sure", "--on", "2025-01-01")
    stale = tracker("check", "--stale-after", "30", "--format", "csv")
    rows = list(csv.reader(io.StringIO(stale.stdout)))[1:]
    assert not any("Acme" in problem for _, problem in rows)
    assert [row for row in rows if "stale" in row[1]] == [
        [
            "sure",
            "is stale: last verified on 2025-01-01, more than 30 days ago; "
            "`tracker verify sure --on DATE` records a check",
        ]
    ]


def test_check_on_the_seeds_lists_only_what_is_really_past_due(seeded_tracker: Tracker) -> None:
    # Every seed entry operational or confirmed has a primary or press source, and every seed
    # operator a headquarters; two are past due by their own dates (seeds/developments.csv
    # records no primary or press report that either went live).
    today = dt.datetime.now(dt.timezone.utc).date()
    assert today > dt.date(2026, 6, 30)
    result = seeded_tracker("check", "--format", "csv")
    assert (result.exit_code, result.stderr) == (1, "2 problems found.\n")
    assert list(csv.reader(io.StringIO(result.stdout)))[1:] == [
        [
            "mistral-ai-bruyeres-le-chatel",
            "was due online in 2026-Q2, which ended on 2026-06-30, and is still planned: record what "
            "happened (`tracker status`), or its new date (`tracker update --online`)",
        ],
        [
            "nebius-uk",
            "was due online in 2025-Q4, which ended on 2025-12-31, and is still announced: record what "
            "happened (`tracker status`), or its new date (`tracker update --online`)",
        ],
    ]


def test_update_edits_fields_and_a_lot_and_keeps_every_change(seeded_tracker: Tracker) -> None:
    result = seeded_tracker(
        "update", "nebius-uk", "--chips", "4500", "--city", "London", "--source", "https://example.org/upd"
    )
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.splitlines() == [
        "nebius-uk: lot 1 chips: 4000 -> 4500",
        "nebius-uk: city: (none) -> London",
        "nebius-uk: source added: https://example.org/upd",
    ]
    row = next(r for r in csv.DictReader(io.StringIO(seeded_tracker.export())) if r["id"] == "nebius-uk")
    assert (row["chips"], row["city"], row["model"]) == ("4500", "London", "B300")
    assert "https://example.org/upd" in row["sources"].split(" | ")
    seeded_tracker.ok("update", "nebius-uk", "--lot", "2", "--chips", "100", "--vendor", "amd")
    assert seeded_tracker("update", "nebius-uk", "--chips", "5").stderr == (
        "Error: --lot: nebius-uk has 2 chip lots (1, 2); say which\n"
    )
    assert (
        seeded_tracker("update", "nebius-uk", "--city", "London").stderr == "nebius-uk: nothing to change.\n"
    )
    seeded_tracker.ok("update", "nebius-uk", "--city", "")
    changes = list(
        csv.DictReader(io.StringIO(seeded_tracker.ok("changes", "--since", "2025-01-01", "--format", "csv")))
    )
    edits = [
        (c["entry"], c["change"], c["old"], c["new"], c["source"]) for c in changes if c["change"] != "added"
    ]
    assert edits[-5:] == [
        ("nebius-uk", "lot 1 chips", "4000", "4500", "https://example.org/upd"),
        ("nebius-uk", "city", "", "London", "https://example.org/upd"),
        ("nebius-uk", "sources", "", "https://example.org/upd", "https://example.org/upd"),
        ("nebius-uk", "lot 2", "", "100 AMD", ""),
        ("nebius-uk", "city", "London", "", ""),
    ]


def test_changes_lists_additions_edits_and_status_moves_with_their_sources(tracker: Tracker) -> None:
    tracker.ok(
        "add", "Site", "--country", "FR", "--chips", "10", "--vendor", "AMD", "--source", "https://a.org"
    )
    tracker.ok("status", "site", "operational", "--on", "2025-12-01", "--source", "https://b.org")
    tracker.ok("update", "site", "--chips", "12", "--source", "https://c.org")
    rows = list(
        csv.DictReader(io.StringIO(tracker.ok("changes", "--since", "2025-01-01", "--format", "csv")))
    )
    assert [(r["entry"], r["change"], r["old"], r["new"], r["source"]) for r in rows] == [
        ("site", "added", "", "Site, FR, 12 chips now", "https://a.org | https://b.org | https://c.org"),
        ("site", "status", "announced", "operational on 2025-12-01", "https://b.org"),
        ("site", "lot 1 chips", "10", "12", "https://c.org"),
        ("site", "sources", "", "https://c.org", "https://c.org"),
    ]
    future = tracker("changes", "--since", "2099-01-01")
    assert (future.exit_code, future.stderr) == (
        2,
        "Error: --since: 2099-01-01 is in the future; give a day that has passed\n",
    )


def changes(tracker: Tracker) -> list[tuple[str, ...]]:
    out = tracker.ok("changes", "--since", "2025-01-01", "--format", "csv")
    return [
        (r["entry"], r["change"], r["old"], r["new"], r["source"]) for r in csv.DictReader(io.StringIO(out))
    ]


def test_changes_lists_what_an_import_updated_and_what_was_removed(tracker: Tracker, tmp_path: Path) -> None:
    tracker.ok(
        "add", "Site", "--country", "FR", "--chips", "10", "--vendor", "AMD", "--source", "https://a.org"
    )
    tracker.ok(
        "add", "Other", "--country", "DE", "--chips", "5", "--vendor", "AMD", "--source", "https://a.org"
    )
    path = tmp_path / "update.csv"
    path.write_text(
        "id,name,country,city,chips,vendor,model,sources\n"
        "site,Site,FR,Paris,12,AMD,MI300X,https://a.org | https://n.org\n",
        encoding="utf-8",
    )
    tracker.ok("import", str(path), "--on-conflict", "update")
    tracker.ok("remove", "other", "--yes", "--note", "a duplicate of site")
    assert sorted(row for row in changes(tracker) if row[1] != "added") == [
        ("other", "removed", "Other, DE, 5 chips", "a duplicate of site", ""),
        ("site", "city", "", "Paris", "https://n.org"),
        ("site", "lots", "1: 10 AMD", "1: 12 AMD MI300X", "https://n.org"),
        ("site", "sources", "https://a.org", "https://a.org | https://n.org", "https://n.org"),
    ]
    # An unchanged import records nothing.
    tracker.ok("import", str(path), "--on-conflict", "update")
    assert len(changes(tracker)) == 5  # the removed entry's addition went with it


def test_check_sees_a_backward_move_that_a_late_record_reveals(seeded_tracker: Tracker) -> None:
    seeded_tracker.ok("status", "nebius-uk", "planned", "--on", "2025-06-20", "--source", "https://a.example")
    seeded_tracker.ok(
        "status", "nebius-uk", "operational", "--on", "2025-06-15", "--source", "https://b.example"
    )
    result = seeded_tracker("check", "--format", "csv")
    assert [line for line in result.stdout.splitlines()[1:] if "moved back" in line] == [
        "nebius-uk,moved back from operational to planned on 2025-06-20 without a note saying why"
    ]


def test_a_status_changed_by_import_joins_the_history(seeded_tracker: Tracker, tmp_path: Path) -> None:
    seeded_tracker.ok("status", "nebius-uk", "planned", "--on", "2025-07-01", "--source", "https://a.example")
    changed = seeded_tracker.export().replace(",planned,confirmed,", ",cancelled,confirmed,")
    path = tmp_path / "cancelled.csv"
    path.write_text(changed, encoding="utf-8")
    seeded_tracker.ok("import", str(path), "--on-conflict", "update")
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    last = seeded_tracker.ok("show", "nebius-uk").splitlines()[-1].split()
    assert last[:4] == [today, "planned", "cancelled", "(unsourced)"]  # the file adds no source
    now = chips_by(seeded_tracker, "--by", "country")
    assert (
        chips_by(seeded_tracker, "--by", "country", "--as-of", today)
        == now
        == {"": 472_000, "FR": 18000 + 13_800, "DE": 10000}  # FR: Mistral AI's two sites
    )
    # A status the file changes rests on the first source the file adds.
    path.write_text(
        changed.replace(",cancelled,confirmed,", ",planned,confirmed,").replace(
            "mid-2025 | NVIDIA GTC", "mid-2025 | https://news.example/back | NVIDIA GTC"
        ),
        encoding="utf-8",
    )
    seeded_tracker.ok("import", str(path), "--on-conflict", "update")
    last = seeded_tracker.ok("show", "nebius-uk").splitlines()[-1].split()
    assert last[:4] == [today, "cancelled", "planned", "https://news.example/back"]


def test_as_of_counts_an_entry_without_an_announced_day_once_online_or_recorded(tracker: Tracker) -> None:
    tracker.ok("add", "Old", "--country", "FR", "--chips", "10", "--vendor", "AMD", "--online", "2019-06")
    tracker.ok("add", "New", "--country", "FR", "--chips", "5", "--vendor", "AMD", "--online", "2030")
    today = dt.datetime.now(dt.timezone.utc).date()
    assert chips_by(tracker, "--by", "country", "--as-of", "2020-01-01") == {"FR": 10}
    assert chips_by(tracker, "--by", "country", "--as-of", today.isoformat()) == {"FR": 15}


UNGRADED = "without a primary or press source"


def status_findings(tracker: Tracker) -> list[str]:
    """`tracker check`'s problems, as "entry problem" lines, but that an entry's sources are
    not graded primary or press (these tests' sources are not graded)."""
    result = tracker("check", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
    return [" ".join(row) for row in rows if UNGRADED not in row[1]]


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning: ")]


# How an entry starts, its moves (status, with a --note?) a month apart from 2025-02-01, and
# what `tracker check` lists: a move back to an earlier stage (announced, planned,
# under-construction, operational) without a note, the stage compared being the last one held
# before any paused, cancelled or decommissioned; and cancelled straight to operational.
STATUS_HISTORIES = [
    ("announced", [("operational", False), ("under-construction", False)],
     ["lu moved back from operational to under-construction on 2025-03-01 without a note saying why"]),
    ("announced", [("under-construction", False), ("paused", False), ("announced", False)],
     ["lu moved back from under-construction to announced on 2025-04-01 (through paused) without a note "
      "saying why"]),
    ("planned", [("cancelled", False), ("announced", False)],
     ["lu moved back from planned to announced on 2025-03-01 (through cancelled) without a note saying why"]),
    ("operational", [("decommissioned", False), ("planned", False)],
     ["lu moved back from operational to planned on 2025-03-01 (through decommissioned) without a note "
      "saying why"]),
    ("planned", [("cancelled", False), ("operational", False)],
     ["lu went from cancelled straight to operational on 2025-03-01 without a note saying why"]),
    ("cancelled", [("operational", False)],
     ["lu went from cancelled straight to operational on 2025-02-01 without a note saying why"]),
    # Not listed: resumed where it stood, or further on; explained; or no stage to go back from.
    ("announced", [("paused", False), ("announced", False)], []),
    ("under-construction", [("paused", False), ("operational", False)], []),
    ("planned", [("cancelled", False), ("planned", False)], []),
    ("cancelled", [("announced", False)], []),
    ("operational", [("decommissioned", False), ("operational", False)], []),
    ("operational", [("paused", False), ("planned", True)], []),
    ("planned", [("cancelled", False), ("operational", True)], []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("start", "moves", "listed"),
    STATUS_HISTORIES,
    ids=[
        " ".join([start, *(s + (" (noted)" if noted else "") for s, noted in moves)])
        for start, moves, _ in STATUS_HISTORIES
    ],
)
def test_status_warns_of_what_check_lists_of_a_status_history(
    tracker: Tracker, start: str, moves: list[tuple[str, bool]], listed: list[str]
) -> None:
    tracker.ok(
        "add", "Lu", "--country", "FR", "--status", start, "--announced", "2025-01-01", "--source", "s"
    )
    warned = []
    for month, (status, noted) in enumerate(moves, start=2):
        note = ["--note", "resumed after a review"] if noted else []
        result = tracker("status", "lu", status, "--on", f"2025-{month:02d}-01", "--source", "s", *note)
        assert result.exit_code == 0
        warned += warnings_of(result.stderr)
    assert warned == [f"Warning: {finding}; `tracker check` lists it" for finding in listed]
    assert status_findings(tracker) == listed


def test_a_status_change_dated_before_the_announcement_is_warned_of_and_listed(tracker: Tracker) -> None:
    tracker.ok("add", "Lu", "--country", "FR", "--announced", "2025-06-11", "--source", "s")
    result = tracker("status", "lu", "planned", "--on", "2025-05-01", "--source", "s", "--note", "a plan")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        "lu: announced -> planned on 2025-05-01.\n"
        "Warning: lu changed to planned on 2025-05-01, before it was announced on 2025-06-11; "
        "`tracker check` lists it\n"
    )
    assert status_findings(tracker) == [
        "lu changed to planned on 2025-05-01, before it was announced on 2025-06-11"
    ]
    tracker.ok("update", "lu", "--announced", "2025-04-30")  # the announcement's day was wrong
    assert status_findings(tracker) == []


def test_a_change_recorded_late_is_warned_of_when_it_makes_a_later_move_go_back(tracker: Tracker) -> None:
    tracker.ok("add", "Lu", "--country", "FR", "--announced", "2025-01-01", "--source", "s")
    tracker.ok("status", "lu", "planned", "--on", "2025-06-01", "--source", "s")
    result = tracker("status", "lu", "operational", "--on", "2025-03-01", "--source", "s")
    assert warnings_of(result.stderr) == [
        "Warning: lu moved back from operational to planned on 2025-06-01 without a note saying why; "
        "`tracker check` lists it"
    ]


def test_a_status_change_warns_of_a_lot_that_keeps_a_status_of_its_own(tracker: Tracker) -> None:
    tracker.ok("add", "Site", "--country", "FR", "--chips", "100", "--vendor", "AMD",
               "--announced", "2025-01-01", "--source", "https://example.org/s")  # fmt: skip
    tracker.ok(
        "update", "site", "--lot", "2", "--chips", "40", "--vendor", "AMD", "--status", "under-construction"
    )
    result = tracker(
        "status", "site", "operational", "--on", "2026-01-10", "--source", "https://example.org/s"
    )
    assert result.exit_code == 0
    assert warnings_of(result.stderr) == [
        "Warning: site is operational, but its lot 2 keeps a status of its own, under-construction, and "
        'counts so (`tracker update site --lot 2 --status ""` gives it its entry\'s)'
    ]
    # It counts so: lot 1 (100) follows its entry, lot 2 (40) keeps its own.
    by_status = tracker.ok("summary", "--by", "status", "--format", "csv").splitlines()
    assert [line.split(",")[:3] for line in by_status[1:]] == [
        ["operational", "1", "100"],
        ["under-construction", "1", "40"],
    ]
    # Given its entry's status again, the lot says nothing at the next move.
    tracker.ok("update", "site", "--lot", "2", "--status", "")
    moved = tracker(
        "status", "site", "decommissioned", "--on", "2026-06-01", "--source", "https://example.org/s"
    )
    assert warnings_of(moved.stderr) == []


def test_a_lot_of_its_own_status_and_period_counts_so_and_moves_with_the_export(
    tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    tracker.ok("add", "Site", "--country", "FR", "--chips", "100", "--vendor", "AMD", "--status",
               "under-construction", "--online", "Q1 2026", "--source", "https://example.org/s")  # fmt: skip
    # Lot 2 is running already, before the rest: its own status and period.
    tracker.ok("update", "site", "--lot", "2", "--chips", "40", "--vendor", "AMD", "--status", "operational",
               "--online", "2025-06")  # fmt: skip
    by_status = tracker.ok("summary", "--by", "status", "--format", "csv")
    assert chip_lines(by_status)[1:] == ["under-construction,1,100,exact", "operational,1,40,exact"]
    timeline = tracker.ok("timeline", "--format", "csv").splitlines()[1:]
    assert [line.split(",")[:3] for line in timeline] == [["2025-Q2", "1", "40"], ["2026-Q1", "1", "100"]]
    exported = tracker.export()
    lot = export_cells(exported)[1]
    assert (lot["lot"], lot["chips"], lot["lot_status"], lot["lot_online"]) == (
        "2",
        "40",
        "operational",
        "2025-06",
    )
    assert (lot["status"], lot["online"]) == ("under-construction", "2026-Q1")  # the entry's, on the row too
    path = tmp_path / "lots.csv"
    path.write_text(exported, encoding="utf-8")
    other = Tracker(empty_db_url)
    other.ok("import", str(path))
    assert other.export() == exported
    # Back to its entry's status and period, as the history says.
    result = tracker("update", "site", "--lot", "2", "--status", "", "--online", "")
    assert result.stderr == (
        "site: lot 2 status: operational -> (none)\nsite: lot 2 online: 2025-06 -> (none)\n"
    )
    assert chip_lines(tracker.ok("summary", "--by", "status", "--format", "csv"))[1:] == [
        "under-construction,1,140,exact"
    ]
    refused = tracker("update", "site", "--status", "operational")
    assert (refused.exit_code, refused.stderr) == (
        2,
        "Error: --status: changes with `tracker status`, on a day; with --lot, a lot's own\n",
    )
