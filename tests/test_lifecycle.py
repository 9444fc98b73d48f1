"""Issue 4, lifecycle and provenance: confidence, status history, sources."""

from __future__ import annotations

import csv
import io

from tests.conftest import Tracker
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
