"""tracker timeline: chips coming online per quarter or year, adding up to the summary."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.conftest import Tracker
from tracker.model.periods import Period, Precision
from tracker.service.timeline import Bucket, bucket_of

SOURCE = ("--source", "https://example.org/a")


def add(tracker: Tracker, name: str, chips: str, online: str | None, *more: str) -> None:
    when = ("--online", online) if online else ()
    tracker.ok("add", name, "--country", "FR", "--chips", chips, "--vendor", "NVIDIA", *when, *SOURCE, *more)


def rows(tracker: Tracker, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(tracker.ok("timeline", *args, "--format", "json")))


@pytest.fixture
def dated(tracker: Tracker) -> Tracker:
    add(tracker, "Jan", "100", "2026-01-15", "--model", "H100")
    add(tracker, "Feb", "200", "Feb 2026", "--model", "H100")
    add(tracker, "Q2", "300", "Q2 2026")
    add(tracker, "First half", "400", "H1 2026")
    add(tracker, "Year", "500", "2026")
    add(tracker, "Next", "600", "2027-Q1")
    add(tracker, "Someday", "700", None)
    return tracker


@pytest.mark.parametrize(
    ("period", "bucket", "expected", "coarse"),
    [
        (Period(dt.date(2026, 2, 14), Precision.DAY), Bucket.QUARTER, "2026-Q1", False),
        (Period(dt.date(2026, 6, 1), Precision.MONTH), Bucket.QUARTER, "2026-Q2", False),
        (Period(dt.date(2026, 10, 1), Precision.QUARTER), Bucket.QUARTER, "2026-Q4", False),
        (Period(dt.date(2026, 7, 1), Precision.HALF), Bucket.QUARTER, "2026-H2", True),
        (Period(dt.date(2026, 1, 1), Precision.YEAR), Bucket.QUARTER, "2026", True),
        (Period(dt.date(2026, 7, 1), Precision.HALF), Bucket.YEAR, "2026", False),
        (Period(dt.date(2026, 12, 31), Precision.DAY), Bucket.YEAR, "2026", False),
    ],
)
def test_a_period_falls_in_its_bucket_unless_it_is_coarser(
    period: Period, bucket: Bucket, expected: str, coarse: bool
) -> None:
    found, own_row = bucket_of(period, bucket)
    assert (str(found), own_row) == (expected, coarse)


def test_quarters_keep_coarser_periods_in_rows_of_their_own(dated: Tracker) -> None:
    found = [(row["period"], row["entries"], row["chips"]) for row in rows(dated)]
    assert found == [
        ("2026-Q1", 2, 300),
        ("2026-Q2", 1, 300),
        ("2026-H1", 1, 400),  # after the quarters it spans, never spread over them
        ("2026", 1, 500),
        ("2027-Q1", 1, 600),
        ("undated", 1, 700),
    ]


def test_years_take_every_finer_period(dated: Tracker) -> None:
    found = [(row["period"], row["chips"]) for row in rows(dated, "--by", "year")]
    assert found == [("2026", 1500), ("2027", 600), ("undated", 700)]


def test_the_periods_add_up_to_the_summary_total(dated: Tracker) -> None:
    summary = json.loads(dated.ok("summary", "--by", "country", "--format", "json"))
    assert sum(row["chips"] for row in rows(dated)) == sum(row["chips"] for row in summary) == 2800
    table = dated.ok("timeline").splitlines()
    # h100e: the 300 H100 only; the other chips have no model, so at least that
    assert table[-1].split() == ["Total", "7", "2,800", "≥", "300"]
    assert dated.ok("summary").splitlines()[-1].split()[:3] == ["Total", "7", "2,800"]


def test_the_seed_timeline_adds_up_to_the_seed_summary(seeded_tracker: Tracker) -> None:
    table = seeded_tracker.ok("timeline").splitlines()
    assert [line.split()[0] for line in table[2:-2]] == ["2025-Q4", "2026-Q2", "undated"]
    # The note's 504,000 and Mistral AI's 13,800 GB300 reported since, due in 2026-Q2.
    total = f"{504_000 + 13_800:,}"
    assert table[-1].split()[:4] == ["Total", "5", "≥", total]
    assert seeded_tracker.ok("summary").splitlines()[-1].split()[:4] == ["Total", "5", "≥", total]
    found = {row["period"]: row for row in rows(seeded_tracker)}
    assert (found["2025-Q4"]["chips"], found["2025-Q4"]["h100e"]) == (4000, 9095.5)  # Nebius UK's B300
    assert found["2026-Q2"]["chips"] == 13_800
    assert (found["undated"]["chips"], found["undated"]["qualifier"]) == (500000, "at-least")


def test_cumulative_totals_run_to_the_summary_total(dated: Tracker) -> None:
    found = rows(dated, "--cumulative")
    assert [row["cumulative_chips"] for row in found] == [300, 600, 1000, 1500, 2100, 2800]
    assert found[0]["cumulative_h100e"] == 300
    table = dated.ok("timeline", "--cumulative").splitlines()
    assert table[0].split() == ["period", "entries", "chips", "h100e", "cumulative_chips", "cumulative_h100e"]


def test_filters_and_status_apply_as_in_the_summary(dated: Tracker) -> None:
    dated.ok("status", "next", "cancelled", "--on", "2026-01-05", *SOURCE)
    assert "2027-Q1" not in [row["period"] for row in rows(dated)]
    assert [row["period"] for row in rows(dated, "--status", "cancelled")] == ["2027-Q1"]
    assert rows(dated, "--country", "DE") == []


def test_a_programmes_rest_comes_online_in_its_own_period(tracker: Tracker) -> None:
    tracker.ok("add", "Plan", "--kind", "programme", "--scope", "eu", "--chips", "10000",
               "--vendor", "NVIDIA", "--online", "2027", *SOURCE)  # fmt: skip
    tracker.ok("add", "Part", "--country", "FR", "--parent", "plan", "--chips", "4000", "--vendor", "NVIDIA",
               "--online", "2026-Q3", *SOURCE)  # fmt: skip
    found = [(row["period"], row["chips"]) for row in rows(tracker)]
    assert found == [("2026-Q3", 4000), ("2027", 6000)]


def test_bad_options_are_refused_in_one_line(tracker: Tracker) -> None:
    result = tracker("timeline", "--by", "month")
    assert result.exit_code == 2
    assert "'month' is not one of 'quarter', 'year'" in result.stderr
    result = tracker("timeline", "--region", "mars")
    assert (result.exit_code, len(result.stderr.splitlines())) == (2, 1)
    assert "Traceback" not in result.stderr


def test_bounds_add_up_the_same_in_any_order(tracker: Tracker) -> None:
    add(tracker, "Lower", "100", "2026-Q1", "--qualifier", "at-least")
    add(tracker, "Upper one", "100", "2026-Q2", "--qualifier", "up-to")
    add(tracker, "Upper two", "100", "2026-Q3", "--qualifier", "up-to")
    assert dated_total(tracker.ok("summary", "--by", "country")) == ["~", "300"]
    assert dated_total(tracker.ok("timeline")) == ["~", "300"]
    assert rows(tracker, "--cumulative")[-1]["cumulative_qualifier"] == "approx"


def test_the_timeline_counts_entries_as_the_summary_does(tracker: Tracker) -> None:
    tracker.ok("add", "Plan", "--kind", "programme", "--country", "FR", "--chips", "1000",
               "--vendor", "NVIDIA", "--online", "2026", *SOURCE)  # fmt: skip
    tracker.ok("add", "Part", "--country", "FR", "--parent", "plan", "--chips", "1000", "--vendor", "NVIDIA",
               "--online", "2026-Q1", *SOURCE)  # fmt: skip
    assert [row["period"] for row in rows(tracker)] == ["2026-Q1"]  # the plan adds nothing of its own
    assert tracker.ok("timeline").splitlines()[-1].split()[:3] == ["Total", "2", "1,000"]
    assert tracker.ok("summary").splitlines()[-1].split()[:3] == ["Total", "2", "1,000"]


def dated_total(table: str) -> list[str]:
    """The chips cell of a table's total row, with its qualifier."""
    cells = table.splitlines()[-1].split()
    return cells[2:4] if cells[2] in ("~", "≥", "≤") else cells[2:3]
