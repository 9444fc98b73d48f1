"""The database's own views (counted_lots, the summaries and the timeline over it) give the
tracker's figures, on SQLite and PostgreSQL, after any write by the tracker; after a write
made outside it they give NULL, not a stale count, until the tracker counts again."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tracker
from tests.conftest import Tracker as Cli
from tests.test_api import build
from tracker.model.vocabulary import SUMMARY_KEYS

EPOCH_FILE = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "epoch_sr3k" / "gpu_clusters.csv"
# Keys read from counted_lots' own columns (schedule reads the first announced period, which
# the view does not give).
FRENCH_PLAN = "SELECT counted_chips FROM counted_lots WHERE entry_id = 'french-plan'"
COLUMN_KEYS = [key for key in SUMMARY_KEYS if key not in ("region", "schedule")]


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _one(value: object) -> Decimal | None:
    """A figure as the summary rounds it for JSON (to one place)."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _summary(api: tracker.Tracker, key: str, filters: dict[str, str]) -> dict[object, tuple[object, ...]]:
    return {
        row[key]: (row["entries"], row["chips"], row["qualifier"], _one(row["h100e"]), _one(row["power_mw"]))
        for row in api.summary(by=key, **filters).rows  # type: ignore[arg-type]
    }


def assert_views_give_the_summary(url: str, source: str | None = None, **filters: str) -> None:
    """Every view of the database at ``url``, and counted_lots grouped by each key, equals the
    tracker's own figures: on the same database, or on ``source`` with ``filters`` (a snapshot
    that tracker publish made with them; by region then only the regions the filter names)."""
    with tracker.open(source or url) as api:
        total = api.summary(by="country", **filters).total  # type: ignore[arg-type]
        assert total is not None
        views = [("country", "summary_by_country"), ("vendor", "summary_by_vendor")]
        for key, view in views if filters else [*views, ("region", "summary_by_region")]:
            rows = _query(url, f"SELECT {key}, entries, chips, qualifier, h100e, power_mw FROM {view}")
            from_sql = {row[0]: (row[1], row[2], row[3], _one(row[4]), _one(row[5])) for row in rows}
            assert from_sql == _summary(api, key, filters), key
        for key in COLUMN_KEYS:
            column = key.replace("-", "_")
            rows = _query(url, f"SELECT {column}, SUM(counted_chips) FROM counted_lots GROUP BY {column}")
            # A group of lots that their parts cover in full sums to 0 and makes no summary row.
            sums = {value: int(chips) for value, chips in rows if chips}
            assert sums == {value: row[1] for value, row in _summary(api, key, filters).items() if row[1]}, (
                key
            )
        (chips,) = _query(url, "SELECT SUM(counted_chips) FROM counted_lots")[0]
        assert int(chips or 0) == total["chips"]
        periods = api.timeline(**filters).rows  # type: ignore[arg-type]
        timeline = {row["period"]: (row["entries"], row["chips"], row["qualifier"]) for row in periods}
        rows = _query(url, "SELECT period, entries, chips, qualifier FROM timeline_by_quarter")
        assert {period or "undated": figures for period, *figures in rows} == {
            period: list(figures) for period, figures in timeline.items()
        }
        # In the timeline's own order: by the end of each period, a coarse one after its quarters.
        dated = [row["period"] for row in periods if row["period"] != "undated"]
        ordered = _query(url, "SELECT period FROM timeline_by_quarter WHERE period IS NOT NULL "
                              "ORDER BY period_end, LENGTH(period) DESC, period DESC")  # fmt: skip
        assert [period for (period,) in ordered] == dated


@pytest.fixture
def nested(seeded_tracker: Cli) -> str:
    build(seeded_tracker)
    assert seeded_tracker.url is not None
    return seeded_tracker.url


def test_the_views_give_the_seeds_summary(seeded_db_url: str) -> None:
    assert_views_give_the_summary(seeded_db_url)
    # The seeds' programme (Europe's plan) adds what its parts do not cover: its counted chips
    # are its planned chips less its parts'.
    with tracker.open(seeded_db_url) as api:
        by_country = {row["country"]: row["chips"] for row in api.summary(by="country").rows}
    assert _query(seeded_db_url, "SELECT chips FROM summary_by_country WHERE country IS NULL") == [
        (by_country[None],)
    ]


def test_the_views_give_the_summary_with_nested_programmes(nested: str) -> None:
    assert_views_give_the_summary(nested)
    # The French plan (30,000 NVIDIA, in FR) holds the Paris site (8,000 NVIDIA B300): it adds
    # 30,000 - 8,000 = 22,000; the EU plan (at least 100,000 NVIDIA) holds the French plan's
    # 30,000 NVIDIA and Berlin's AMD and unknown chips: its NVIDIA lot adds at least
    # 100,000 - 30,000 - 700 (the unknown vendor's chips may be NVIDIA's) = 69,300.
    rows = _query(nested, "SELECT entry_id, counted_chips, qualifier FROM counted_lots WHERE programme "
                          "ORDER BY entry_id")  # fmt: skip
    assert rows == [("eu-plan", 69_300, "at-least"), ("europe-ai-factories-plan", rows[1][1], rows[1][2]),
                    ("french-plan", 22_000, "exact")]  # fmt: skip


def test_every_write_by_the_tracker_keeps_the_views_right(nested: str) -> None:
    cli = Cli(nested)
    cli.ok("update", "paris-site", "--chips", "12000", "--online", "Q1 2027")  # moved later than Q3 2026
    cli.ok("status", "berlin-site", "cancelled", "--on", "2026-01-05", "--source", "https://example.org/c")
    cli.ok("add", "Lyon site", "--country", "FR", "--parent", "french-plan", "--chips", "3000",
           "--vendor", "NVIDIA", "--model", "H200")  # fmt: skip
    cli.ok("remove", "oslo-site", "--yes")
    assert_views_give_the_summary(nested)
    # The French plan now holds 12,000 + 3,000 of its 30,000.
    assert _query(nested, FRENCH_PLAN) == [(30_000 - 12_000 - 3_000,)]
    assert _query(nested, "SELECT schedule FROM counted_lots WHERE entry_id = 'paris-site'") == [
        ("moved later",)
    ]


def test_a_write_outside_the_tracker_makes_the_counts_null_until_init(nested: str) -> None:
    # Someone moves the Paris site out of its programme with plain SQL: the French plan's
    # count, kept by the tracker, no longer holds.
    engine = sa.create_engine(nested)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE entry SET parent_id = NULL WHERE id = 'paris-site'"))
    engine.dispose()
    assert _query(nested, "SELECT COUNT(*) FROM counted_lots WHERE counted_chips IS NOT NULL") == [(0,)]
    assert _query(nested, "SELECT SUM(counted_chips) FROM counted_lots") == [(None,)]
    assert {row[0] for row in _query(nested, "SELECT chips FROM summary_by_country")} == {None}
    Cli(nested).ok("init")
    assert_views_give_the_summary(nested)
    # The French plan no longer holds the Paris site: it stands on its own 30,000.
    assert _query(nested, FRENCH_PLAN) == [(30_000,)]


def test_a_read_leaves_the_count_as_it_is(nested: str) -> None:
    engine = sa.create_engine(nested)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE chip_lot SET quantity = 2001 WHERE entry_id = 'oslo-site'"))
    engine.dispose()
    Cli(nested).ok("summary")
    assert _query(nested, "SELECT stale FROM count_state") in ([(1,)], [(True,)])
    # The tracker's next write counts again.
    Cli(nested).ok("update", "oslo-site", "--note", "checked")
    assert_views_give_the_summary(nested)


def test_a_programme_its_parts_cover_has_no_figures_and_a_lost_state_row_is_made_again(tracker: Cli) -> None:
    assert tracker.url is not None
    h100 = ["--chips", "1000", "--vendor", "NVIDIA", "--model", "H100"]
    tracker.ok(
        "add", "EU plan", "--kind", "programme", "--scope", "eu", *h100, "--source", "https://example.org/a"
    )
    tracker.ok(
        "add", "FR site", "--country", "FR", "--parent", "eu-plan", *h100, "--source", "https://example.org/b"
    )
    assert_views_give_the_summary(tracker.url)
    # The plan adds nothing: no H100-equivalents or power of its own (NULL, as the CLI's empty cell).
    assert _query(
        tracker.url, "SELECT counted_chips, h100e, power_mw FROM counted_lots WHERE entry_id = 'eu-plan'"
    ) == [(0, None, None)]
    engine = sa.create_engine(tracker.url)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM count_state"))
    engine.dispose()
    assert _query(tracker.url, "SELECT COUNT(*), COUNT(counted_chips) FROM counted_lots") == [(2, 0)]
    tracker.ok("init")
    assert_views_give_the_summary(tracker.url)


@pytest.mark.slow
def test_the_views_give_the_summary_of_the_epoch_import(tracker: Cli) -> None:
    assert tracker.url is not None
    tracker.ok("import", str(EPOCH_FILE), "--from", "epoch", "--skip-invalid")
    assert_views_give_the_summary(tracker.url)


def test_the_sql_of_docs_sql_md_runs_and_gives_the_clis_figures(nested: str) -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "sql.md").read_text(encoding="utf-8")
    statements = [
        statement.split("--")[0].strip()
        for block in re.findall(r"^```sql\n(.*?)^```$", doc, flags=re.MULTILINE | re.DOTALL)
        for statement in block.split(";")
        if statement.split("--")[0].strip()
    ]
    assert len(statements) >= 5
    results = [_query(nested, statement) for statement in statements]  # each runs, on either database
    with tracker.open(nested) as api:
        europe = {row["vendor"]: row["chips"] for row in api.summary(by="vendor", region="europe").rows}
        by_status = {row["status"]: row["chips"] for row in api.summary(by="status").rows}
    europe_query = next(i for i, statement in enumerate(statements) if "'europe'" in statement)
    assert {vendor: int(chips) for vendor, chips in results[europe_query]} == europe
    status_query = next(i for i, statement in enumerate(statements) if statement.startswith("SELECT status"))
    assert {status: int(chips) for status, chips in results[status_query] if chips} == by_status
