"""tracker chart: the summary and the timeline as PNG or SVG files people can read alone."""

from __future__ import annotations

import json
import re
import struct
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import IO

import pytest

import tracker as tracker_api
from tests.conftest import Tracker
from tracker.errors import InvalidValue
from tracker.service import plot
from tracker.service.charts import ChartData

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header chunk, which must come first."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"  # whole: ends with its end chunk
    return width, height


def svg_root(path: Path) -> ElementTree.Element:
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def svg_text(root: ElementTree.Element) -> str:
    return " ".join(text for element in root.iter() for text in [element.text] if text)


def test_a_summary_chart_is_a_png_of_the_expected_size(seeded_tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "europe.png"
    assert seeded_tracker.ok("chart", "summary", "--region", "europe", "--output", str(path)) == f"{path}\n"
    assert png_size(path) == (1200, 675)


def test_an_svg_chart_carries_its_title_filters_date_and_counts(
    seeded_tracker: Tracker, tmp_path: Path
) -> None:
    path = tmp_path / "europe.svg"
    seeded_tracker.ok("chart", "summary", "--region", "europe", "--as-of", "2025-12-31", "-o", str(path))
    root = svg_root(path)
    assert (root.get("width"), root.get("height")) == ("864pt", "486pt")  # 12 x 6.75 inches
    text = svg_text(root)
    assert "AI accelerators by country, stacked by vendor" in text
    assert (
        "region europe; planned (every status but cancelled and decommissioned); as of 2025-12-31; "
        "total at least 504,000 accelerators, each counted once"
    ) in text
    for label in ("≥ 472,000", "18,000", "10,000", "4,000", "(multi-country)", "FR", "DE", "GB", "NVIDIA"):
        assert label in text


def test_a_timeline_chart_stacks_periods_by_vendor(seeded_tracker: Tracker, tmp_path: Path) -> None:
    seeded_tracker.ok("add", "AMD site", "--country", "FR", "--chips", "2000", "--vendor", "AMD",
                      "--online", "2026-Q1", "--source", "https://example.org/a")  # fmt: skip
    path = tmp_path / "timeline.svg"
    seeded_tracker.ok("chart", "timeline", "--output", str(path))
    text = svg_text(svg_root(path))
    assert "AI accelerators coming online by quarter, stacked by vendor" in text
    # The seeds' 504,000 and 13,800 reported since, and this AMD site's 2,000.
    for label in (
        "2025-Q4",
        "2026-Q1",
        "undated",
        "AMD",
        "NVIDIA",
        f"total at least {504_000 + 13_800 + 2_000:,}",
    ):
        assert label in text
    png = tmp_path / "timeline.png"
    seeded_tracker.ok("chart", "timeline", "--by", "year", "--stack", "country", "--output", str(png))
    assert png_size(png) == (1200, 675)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[ChartData]:
    """The data of every chart drawn, as handed to the drawing (which still draws it)."""
    charts: list[ChartData] = []
    draw = plot.draw

    def recording(chart: ChartData, stream: IO[bytes], fmt: str) -> None:
        charts.append(chart)
        draw(chart, stream, fmt)

    monkeypatch.setattr(plot, "draw", recording)
    return charts


def add(tracker: Tracker, name: str, chips: int, vendor: str, online: str | None = None) -> None:
    when = ("--online", online) if online else ()
    tracker.ok("add", name, "--country", "FR", "--chips", str(chips), "--vendor", vendor, *when,
               "--source", "https://example.org/a")  # fmt: skip


@pytest.fixture
def gappy(tracker: Tracker) -> Tracker:
    """Chips online in 2025-Q1 and 2025-Q4 only, and undated ones."""
    add(tracker, "Early", 1000, "NVIDIA", "2025-Q1")
    add(tracker, "Late", 3000, "AMD", "Q4 2025")
    add(tracker, "Someday", 500, "NVIDIA")
    return tracker


def test_a_timeline_chart_draws_the_empty_quarters_between_the_first_and_the_last(
    gappy: Tracker, drawn: list[ChartData], tmp_path: Path
) -> None:
    path = tmp_path / "gaps.svg"
    gappy.ok("chart", "timeline", "--output", str(path))
    (chart,) = drawn
    # 2025-Q2 and 2025-Q3 have no chips but are drawn; the undated bar stays last.
    assert chart.categories == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "undated"]
    assert [amount.chips for amount in chart.totals] == [1000, 0, 0, 3000, 500]
    assert chart.series == {"AMD": [0, 0, 0, 3000, 0], "NVIDIA": [1000, 0, 0, 0, 500]}
    assert chart.coarse == [False] * 5
    assert chart.running == []  # no line unless asked
    text = svg_text(svg_root(path)).split()
    assert ("2025-Q2" in text, "2025-Q3" in text, "running total" in " ".join(text)) == (True, True, False)


def test_a_timeline_chart_by_year_draws_the_empty_years(
    tracker: Tracker, drawn: list[ChartData], tmp_path: Path
) -> None:
    add(tracker, "Early", 1000, "NVIDIA", "2024-09")
    add(tracker, "Late", 3000, "AMD", "H2 2027")
    tracker.ok("chart", "timeline", "--by", "year", "--output", str(tmp_path / "years.png"))
    assert drawn[0].categories == ["2024", "2025", "2026", "2027"]
    assert [amount.chips for amount in drawn[0].totals] == [1000, 0, 0, 3000]


def test_coarser_periods_keep_their_place_after_the_empty_quarters_they_span(
    tracker: Tracker, drawn: list[ChartData], tmp_path: Path
) -> None:
    add(tracker, "Spring", 200, "NVIDIA", "2026-Q2")
    add(tracker, "First half", 400, "NVIDIA", "H1 2026")
    add(tracker, "Year", 500, "NVIDIA", "2026")
    add(tracker, "Next", 600, "NVIDIA", "2027-Q1")
    tracker.ok("chart", "timeline", "--output", str(tmp_path / "coarse.svg"))
    (chart,) = drawn
    # From 2026-01-01 (the year's start) to 2027-03-31: every quarter, each coarse period
    # after the last quarter it spans (H1 after Q2, the year after Q4), as `tracker timeline`.
    assert chart.categories == ["2026-Q1", "2026-Q2", "2026-H1", "2026-Q3", "2026-Q4", "2026", "2027-Q1"]
    assert [amount.chips for amount in chart.totals] == [0, 200, 400, 0, 0, 500, 600]
    assert chart.coarse == [False, False, True, False, False, True, False]


def test_a_cumulative_timeline_chart_draws_the_running_total(
    gappy: Tracker, drawn: list[ChartData], tmp_path: Path
) -> None:
    path = tmp_path / "running.svg"
    gappy.ok("chart", "timeline", "--cumulative", "--output", str(path))
    (chart,) = drawn
    # Bars 1000, 0, 0, 3000 (2025-Q1 to Q4), then 500 undated.
    assert chart.running == [1000, 1000 + 0, 1000 + 0 + 0, 1000 + 3000, 1000 + 3000 + 500]
    assert chart.running[-1] == chart.total.chips == 4500
    assert "with the running total" in chart.title
    # The same running totals as `tracker timeline --cumulative`, in the periods it lists.
    table = json.loads(gappy.ok("timeline", "--cumulative", "--format", "json"))
    running = dict(zip(chart.categories, chart.running, strict=True))
    assert {row["period"]: row["cumulative_chips"] for row in table} == {
        period: running[period] for period in ("2025-Q1", "2025-Q4", "undated")
    }
    root = svg_root(path)
    assert "running total" in svg_text(root)  # its legend entry and its scale's label
    ids = {element.get("id") for element in root.iter()}
    assert {"running-total", "running-total-undated"} <= ids  # dated steps solid, the undated one dashed
    assert "Dashed: the undated chips, added last to the running total." in svg_text(root)
    png = tmp_path / "running.png"
    gappy.ok("chart", "timeline", "--cumulative", "--by", "year", "--output", str(png))
    assert drawn[1].running == [1000 + 3000, 1000 + 3000 + 500]  # 2025, then undated
    assert png_size(png) == (1200, 675)


def test_the_api_draws_a_running_total_on_the_timeline_only(gappy: Tracker, tmp_path: Path) -> None:
    assert gappy.url is not None
    with tracker_api.open(gappy.url) as api:
        path = api.chart("timeline", tmp_path / "running.svg", cumulative=True)
        assert "running total" in svg_text(svg_root(path))
        refused = "^cumulative: a running total is drawn on the timeline only; draw the timeline$"
        with pytest.raises(InvalidValue, match=refused):
            api.chart("summary", tmp_path / "summary.svg", cumulative=True)
    assert not (tmp_path / "summary.svg").exists()


def test_many_bars_end_in_one_other_bar(tracker: Tracker, tmp_path: Path) -> None:
    countries = [
        "FR",
        "DE",
        "IT",
        "ES",
        "PL",
        "NL",
        "BE",
        "SE",
        "NO",
        "FI",
        "DK",
        "AT",
        "CH",
        "PT",
        "IE",
        "GR",
        "CZ",
        "RO",
    ]
    for rank, country in enumerate(countries):
        tracker.ok(
            "add", f"Site {country}", "--country", country, "--chips", str(1000 - rank), "--vendor", "AMD"
        )
    path = tmp_path / "many.svg"
    tracker.ok("chart", "summary", "--output", str(path))
    text = svg_text(svg_root(path))
    assert "other (4)" in text  # 18 countries: 14 bars of their own and one of the last 4
    assert "CZ" not in text.split()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["summary", "--output", "chart.pdf"], 2,
         "Error: --output: 'chart.pdf' does not end in .png or .svg; give a file name that does"),
        (["summary", "--output", "missing/chart.png"], 2, "Error: --output: folder missing does not exist"),
        (["summary", "--by", "planet", "--output", "chart.png"], 2, "Error: Invalid value for '--by'"),
        (["summary", "--region", "mars", "-o", "chart.png"], 2, "Error: --region: unknown region 'mars'"),
        (["timeline", "--by", "month", "--output", "chart.png"], 2, "Error: Invalid value for '--by'"),
        (["summary"], 2, "Error: Missing option '--output'"),
        (["summary", "--country", "JP", "--output", "chart.png"], 1,
         "(no matching rows: no chart written)"),
        (["timeline", "--stack", "region", "-o", "chart.png"], 2,
         "Error: --stack: region would count a country in two regions twice in one bar"),
        (["summary", "--by", "vendor", "--stack", "vendor", "-o", "chart.png"], 2,
         "Error: --stack: 'vendor' is the key of the bars too"),
    ],
)  # fmt: skip
def test_bad_chart_requests_are_refused_in_one_line_and_write_nothing(
    seeded_tracker: Tracker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    message: str,
) -> None:
    folder = tmp_path / "charts"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = seeded_tracker("chart", *args)
    assert result.exit_code == code
    assert result.stderr.startswith(message)
    assert (len(result.stderr.splitlines()), "Traceback" in result.stderr) == (1, False)
    assert list(folder.iterdir()) == []


def test_without_matplotlib_the_chart_command_says_how_to_install_it(
    seeded_tracker: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    folder = tmp_path / "charts"
    folder.mkdir()
    result = seeded_tracker("chart", "summary", "--output", str(folder / "chart.png"))
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: tracker chart needs matplotlib, which is not installed: "
        "pip install 'sovereign-ai-tracker[plot]' (or pip install matplotlib)\n",
    )
    assert list(folder.iterdir()) == []  # no partial file


def test_the_help_says_what_a_chart_holds(seeded_tracker: Tracker) -> None:
    assert "1200 x 675" in " ".join(seeded_tracker.ok("chart", "--help").split())
    assert "--stack" in seeded_tracker.ok("chart", "summary", "--help")


def test_a_timeline_of_decades_labels_some_periods_and_the_bars_that_hold_chips(
    tracker: Tracker, tmp_path: Path, drawn: list[ChartData]
) -> None:
    add(tracker, "Old", 10, "AMD", "1995-Q1")
    add(tracker, "New", 30, "AMD", "2026-Q1")
    output = tmp_path / "decades.svg"
    tracker.ok("chart", "timeline", "--output", str(output))
    # 1995-Q1 to 2026-Q1: 31 years of 4 quarters, and one: 125 bars, every one drawn.
    assert len(drawn[0].categories) == 31 * 4 + 1
    svg = output.read_text(encoding="utf-8")
    labelled = set(re.findall(r">(\d{4}-Q[1-4])<", svg))
    # At most 20 labels a row, every 7th (125 / 20, rounded up) and the last.
    assert labelled == {drawn[0].categories[place] for place in [*range(0, 125, 7), 124]}
    assert {"1995-Q1", "2026-Q1"} <= labelled
    counts = re.findall(r">(\d+)<", svg)
    assert counts.count("0") == 1  # the axis's: the 123 empty bars are not labelled among so many
