"""The command line end to end, as a user types it, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import click
import pytest

from tests.conftest import Tracker, chip_lines, export_line
from tests.test_capacity import catalogue_figures, estimated_mw
from tracker.model.values import POWER_FACTOR
from tracker.service.database import create_engine

ANNOUNCEMENTS = [
    # name, country as typed, vendor as typed, model, chips, status
    ("Paris One", "france", "nvidia", "GB200", "12000", "announced"),
    ("Paris Two", "FRA", "AMD", "mi355x", "3,000", "planned"),
    ("Berlin Hub", "Germany", "NVIDIA", "h 100", "5000", "operational"),
    ("Munich Lab", "de", "Nvidia", "", "2500", "cancelled"),
    ("London Campus", "UK", "google", "tpu v7", "8000", "under-construction"),
    ("Oslo Fjord", "Norway", "nvidia", "B300", "1500", "announced"),
    ("Zurich Alp", "CH", "amd", "MI300X", "700", "decommissioned"),
    ("Riyadh Desert", "Saudi Arabia", "NVIDIA", "GB300", "18000", "announced"),
    ("Undisclosed Madrid", "spain", "unknown", "", "900", "planned"),
]


def add_announcements(tracker: Tracker) -> None:
    for name, country, vendor, model, chips, status in ANNOUNCEMENTS:
        args = ["add", name, "--country", country, "--vendor", vendor, "--chips", chips, "--status", status]
        if model:
            args += ["--model", model]
        tracker.ok(*args, "--source", f"https://example.org/{name.lower().replace(' ', '-')}")


def database_contents(tracker: Tracker) -> tuple[str, ...]:
    """Everything a command could change: entries and lots, the catalogue, the regions."""
    return (
        tracker.export(),
        tracker.ok("chips", "--format", "csv"),
        tracker.ok("regions", "--format", "csv"),
    )


def csv_lines(text: str) -> list[str]:
    return chip_lines(text)


def test_add_prints_only_the_new_id(tracker: Tracker) -> None:
    result = tracker("add", "Nebius UK", "--country", "GB", "--chips", "4000", "--vendor", "NVIDIA",
                     "--model", "B300", "--online", "Q4 2025", "--announced", "2025-06-11")  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout == "nebius-uk\n"
    assert result.stderr == ""


def test_summary_totals_by_country_leave_out_cancelled_and_decommissioned(tracker: Tracker) -> None:
    add_announcements(tracker)
    out = tracker.ok("summary", "--region", "europe", "--by", "country", "--format", "csv")
    assert csv_lines(out) == [
        "country,entries,chips,qualifier",
        "FR,2,15000,exact",
        "GB,1,8000,exact",
        "DE,1,5000,exact",
        "NO,1,1500,exact",
        "ES,1,900,exact",
    ]


def test_summary_totals_by_vendor(tracker: Tracker) -> None:
    add_announcements(tracker)
    out = tracker.ok("summary", "--region", "europe", "--by", "vendor", "--format", "csv")
    assert csv_lines(out) == [
        "vendor,entries,chips,qualifier",
        "NVIDIA,3,18500,exact",
        "Google,1,8000,exact",
        "AMD,1,3000,exact",
        "unknown,1,900,exact",
    ]


def test_summary_totals_by_country_and_vendor_with_a_total_row(tracker: Tracker) -> None:
    add_announcements(tracker)
    out = tracker.ok("summary", "--region", "europe", "--format", "csv")
    assert csv_lines(out) == [
        "country,vendor,entries,chips,qualifier",
        "FR,NVIDIA,1,12000,exact",
        "GB,Google,1,8000,exact",
        "DE,NVIDIA,1,5000,exact",
        "FR,AMD,1,3000,exact",
        "NO,NVIDIA,1,1500,exact",
        "ES,unknown,1,900,exact",
    ]
    table = tracker.ok("summary", "--region", "europe")
    assert table.splitlines()[-1].split()[:3] == ["Total", "6", "30,400"]
    markdown = tracker.ok("summary", "--region", "europe", "--format", "markdown")
    assert markdown.splitlines()[-1].replace(" ", "").startswith("|Total||6|30,400|")


def test_summary_in_json_carries_raw_numbers(tracker: Tracker) -> None:
    add_announcements(tracker)
    rows = json.loads(tracker.ok("summary", "--region", "eu", "--by", "country", "--format", "json"))
    figures = catalogue_figures()
    gb200, mi355x = figures[("NVIDIA", "GB200")], figures[("AMD", "MI355X")]
    # 12,000 GB200 and 3,000 MI355X, over the H100's BF16; their TDPs x the power factor
    h100e = (12_000 * Decimal(gb200["bf16_tflops"]) + 3_000 * Decimal(mi355x["bf16_tflops"])) / Decimal(
        "989.5"
    )
    power = estimated_mw(12_000 * int(gb200["tdp_w"]) + 3_000 * int(mi355x["tdp_w"]))
    assert rows[0] == {
        "country": "FR",
        "entries": 2,
        "chips": 15000,
        "qualifier": "exact",
        "h100e": float(round(h100e, 1)),
        "h100e_chips": 15000,
        "power_mw": power,
        "power_mw_estimated": power,
        "power_chips": 15000,
        "h100e_basis": "bf16",
        "power_factor": float(POWER_FACTOR),
    }
    assert sum(row["chips"] for row in rows) == 15000 + 5000 + 900


def test_summary_by_region_counts_each_chip_once_in_the_total(tracker: Tracker) -> None:
    add_announcements(tracker)
    out = tracker.ok("summary", "--by", "region", "--region", "europe", "--region", "eu", "--region", "gcc")
    lines = [line.split()[:3] for line in out.splitlines()]
    assert ["europe", "6", "30,400"] in lines
    assert ["eu", "4", "20,900"] in lines
    assert ["gcc", "1", "18,000"] in lines
    assert lines[-1] == ["Total", "7", "48,400"]


def test_a_status_filter_replaces_the_planned_default(tracker: Tracker) -> None:
    add_announcements(tracker)
    out = tracker.ok(
        "summary", "--status", "cancelled", "--status", "decommissioned", "--by", "status", "--format", "csv"
    )
    assert csv_lines(out) == [
        "status,entries,chips,qualifier",
        "cancelled,1,2500,exact",
        "decommissioned,1,700,exact",
    ]


def test_filters_by_vendor_model_and_country_names(tracker: Tracker) -> None:
    add_announcements(tracker)
    out = tracker.ok(
        "summary", "--vendor", "nvidia", "--model", "gb200", "--country", "France", "--format", "csv"
    )
    assert csv_lines(out) == ["country,vendor,entries,chips,qualifier", "FR,NVIDIA,1,12000,exact"]
    listed = tracker.ok("list", "--vendor", "AMD", "--format", "csv")
    assert [row["id"] for row in csv.DictReader(io.StringIO(listed))] == ["paris-two", "zurich-alp"]


def test_announced_date_filters(tracker: Tracker) -> None:
    tracker.ok(
        "add", "Early", "--country", "FR", "--announced", "2025-01-10", "--chips", "10", "--vendor", "AMD"
    )
    tracker.ok(
        "add", "Late", "--country", "FR", "--announced", "2025-09-01", "--chips", "20", "--vendor", "AMD"
    )
    out = tracker.ok("summary", "--announced-since", "2025-06-01", "--by", "country", "--format", "csv")
    assert csv_lines(out) == ["country,entries,chips,qualifier", "FR,1,20,exact"]
    out = tracker.ok("summary", "--announced-until", "10 Jan 2025", "--by", "country", "--format", "csv")
    assert csv_lines(out) == ["country,entries,chips,qualifier", "FR,1,10,exact"]


def test_an_entry_without_a_chip_count_is_listed_but_not_counted_as_zero(tracker: Tracker) -> None:
    tracker.ok("add", "Secret Site", "--country", "IT")
    listed = list(csv.DictReader(io.StringIO(tracker.ok("list", "--format", "csv"))))
    assert listed[0]["id"] == "secret-site"
    assert listed[0]["chips"] == ""
    assert csv_lines(tracker.ok("summary", "--format", "csv")) == ["country,vendor,entries,chips,qualifier"]
    assert tracker.export().splitlines()[1].startswith("secret-site,Secret Site,,IT,")


def test_show_gives_fields_lots_and_sources(tracker: Tracker) -> None:
    tracker.ok("add", "Nebius UK", "--country", "gbr", "--operator", "Nebius", "--chips", "4000", "--vendor",
               "nvidia", "--model", "b300", "--online", "2025年Q4", "--power-mw", "12.5",
               "--source", "https://example.org/a", "--note", "first phase")  # fmt: skip
    shown = tracker.ok("show", "nebius-uk")
    assert "country     GB (United Kingdom)" in shown
    assert "online      2025-Q4" in shown
    assert "power (MW)  12.5" in shown
    assert "- https://example.org/a" in shown
    record = json.loads(tracker.ok("show", "nebius-uk", "--format", "json"))
    assert record["lots"] == [
        {
            "lot": 1,
            "vendor": "NVIDIA",
            "model": "B300",
            "chips": 4000,
            "status": "announced",
            "online": "2025-Q4",
            "qualifier": "exact",
            "announced_chips": None,
            "announced_unit": None,
        }
    ]
    assert record["power_mw"] == 12.5


def test_export_columns_and_values(tracker: Tracker) -> None:
    tracker.ok("add", "Nebius UK", "--country", "GB", "--operator", "Nebius", "--chips", "4000", "--vendor",
               "NVIDIA", "--model", "B300", "--online", "Q4 2025", "--announced", "2025-06-11",
               "--power-mw", "40", "--source", "https://b.example", "--source", "https://a.example",
               "--kind", "cloud-region", "--sponsor", "private", "--confidence", "confirmed")  # fmt: skip
    header, row = tracker.export().splitlines()
    # The export's columns as scripts rely on them; a field added since would follow them.
    assert header.startswith(
        "id,name,operator,country,city,kind,sponsor,parent,status,confidence,announced,online,lot,"
        "vendor,model,chips,power_mw,sources,notes,scope,qualifier,announced_chips,announced_unit,lot_status,"
        "lot_online"
    )
    cells: dict[str, object] = {"id": "nebius-uk", "name": "Nebius UK", "operator": "Nebius", "country": "GB"}
    cells |= {"kind": "cloud-region", "sponsor": "private", "status": "announced", "confidence": "confirmed"}
    cells |= {"announced": "2025-06-11", "online": "2025-Q4", "lot": 1, "vendor": "NVIDIA", "model": "B300"}
    cells |= {"chips": 4000, "power_mw": 40, "sources": "https://a.example | https://b.example"}
    assert row == export_line(**cells, qualifier="exact", first_online="2025-Q4")


def test_export_neutralises_spreadsheet_formulas(tracker: Tracker) -> None:
    tracker.ok("add", '=HYPERLINK("http://evil")', "--id", "evil", "--country", "FR", "--note", "-1+2")
    row = tracker.export().splitlines()[1]
    assert row.startswith('evil,"\'=HYPERLINK(""http://evil"")",')
    evil = '\'=HYPERLINK("http://evil")'
    assert row == export_line(id="evil", name=evil, country="FR", status="announced", notes="'-1+2")


def test_export_to_a_file_prints_its_path(tracker: Tracker, tmp_path: Path) -> None:
    add_announcements(tracker)
    target = tmp_path / "lots.csv"
    result = tracker("export", "--output", str(target))
    assert result.exit_code == 0
    assert result.stdout == f"{target}\n"
    assert target.read_text(encoding="utf-8") == tracker.export()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".lots")) == []


def test_export_to_a_missing_folder_fails_clearly(tracker: Tracker, tmp_path: Path) -> None:
    result = tracker("export", "--output", str(tmp_path / "nowhere" / "lots.csv"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: --output: folder {tmp_path / 'nowhere'} does not exist\n"


def test_export_to_a_folder_or_nothing_is_refused(tracker: Tracker, tmp_path: Path) -> None:
    result = tracker("export", "--output", str(tmp_path))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: --output: {tmp_path} is a folder; give a file name\n",
    )
    result = tracker("export", "--output", "")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: Invalid value for '--output': give a file name, or - for standard output"
    )


def test_an_exported_file_is_readable_as_the_umask_allows(tracker: Tracker, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        tracker.ok("export", "--output", str(tmp_path / "lots.csv"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "lots.csv").stat().st_mode) == 0o644


def test_power_keeps_its_decimals_and_reads_thousands(tracker: Tracker) -> None:
    tracker.ok("add", "A", "--country", "FR", "--power-mw", "12.500")
    tracker.ok("add", "B", "--country", "FR", "--power-mw", "1,200")
    powers = {row["id"]: row["power_mw"] for row in csv.DictReader(io.StringIO(tracker.export()))}
    assert powers == {"a": "12.5", "b": "1200"}
    assert "power (MW)  12.5" in tracker.ok("show", "a")


def test_export_never_overwrites_the_database(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    tracker = Tracker(str(path))
    tracker.ok("add", "Site", "--country", "FR")
    for target in (path, tmp_path / "tracker.db-wal"):
        result = tracker("export", "--output", str(target))
        assert result.exit_code == 2
        assert result.stderr == f"Error: --output: {target} is the database itself; give another file\n"
    assert "site,Site" in tracker.export()


def test_a_reader_that_stops_early_is_not_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    tracker = Tracker(str(path))
    tracker.ok("init", "--no-seed")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 20000) "
            "INSERT INTO entry (id, name, country, status, created_at, updated_at) "
            "SELECT 'e' || value, 'Entry ' || value, 'FR', 'announced', '2025-01-01', '2025-01-01' FROM n"
        )
    engine.dispose()
    command = [sys.executable, "-m", "tracker", "--db", str(path), "export"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.readline().startswith(b"id,name,")
        process.stdout.close()
        assert process.wait(timeout=60) == 0
        assert process.stderr.read() == b""


def test_a_name_holding_sql_is_stored_and_shown_literally(tracker: Tracker) -> None:
    name = "x'); DROP TABLE entry;--"
    assert tracker.ok("add", name, "--country", "FR") == "x-drop-table-entry\n"
    assert tracker.ok("show", "x-drop-table-entry").splitlines()[0] == name
    listed = list(csv.DictReader(io.StringIO(tracker.ok("list", "--format", "csv"))))
    assert listed[0]["name"] == name


def test_remove_asks_first(tracker: Tracker) -> None:
    add_announcements(tracker)
    tracker.ok("add", "No count", "--country", "FR")
    before = tracker.export()
    declined = tracker("remove", "paris-one", input="n\n")
    assert declined.exit_code == 1
    assert declined.stderr == (
        "Remove paris-one (Paris One, 12,000 chips in 1 lot(s))? [y/N]: n\n"
        "Error: paris-one was not removed; --yes removes without asking\n"
    )
    assert tracker.export() == before
    assert "(No count, no chip count)?" in tracker("remove", "no-count", input="n\n").stderr
    accepted = tracker("remove", "paris-one", input="y\n")
    assert accepted.exit_code == 0
    tracker.ok("remove", "paris-two", "--yes")
    remaining = {row["id"] for row in csv.DictReader(io.StringIO(tracker.export()))}
    assert not {"paris-one", "paris-two"} & remaining
    assert len(remaining) == len(ANNOUNCEMENTS) - 1


BAD_INPUTS = [
    # arguments, exit code, the message line (or its start, when that ends with a space)
    (["add", "X", "--country", "Frnace"], 2,
     "Error: --country: unknown country 'Frnace'; did you mean France (FR)? "
     "Use an ISO 3166-1 code (FR, FRA) or an English name (France)"),
    (["add", "X", "--country", "FR", "--chips", "10", "--vendor", "Nvidiaa"], 2,
     "Error: --vendor: unknown vendor 'Nvidiaa'; did you mean 'NVIDIA'? known vendors: AMD, AWS, Biren, "
     "Cambricon, Cerebras, Google, Graphcore, Groq, Huawei, Hygon, Intel, Microsoft, Moore Threads, NVIDIA, "
     "PEZY Computing, SambaNova, Tenstorrent, Tesla, unknown (`unknown` when it was not disclosed)"),
    (["add", "X", "--country", "FR", "--chips", "10", "--vendor", "NVIDIA", "--model", "H1000"], 2,
     "Error: --model: unknown model 'H1000'; did you mean 'H100'? NVIDIA models: A100, A40, A800, B100, "),
    (["add", "X", "--country", "FR", "--chips", "10", "--vendor", "AMD", "--model", "H100"], 2,
     "Error: --model: 'H100' is a model of NVIDIA, not AMD; give --vendor NVIDIA"),
    (["add", "X", "--country", "FR", "--status", "finished"], 2,
     "Error: --status: unknown status 'finished'; "),
    (["add", "X", "--country", "FR", "--chips", "-5", "--vendor", "AMD"], 2,
     "Error: --chips: '-5' is not a chip count; give a whole number from 1 to 1,000,000,000,000"),
    (["add", "X", "--country", "FR", "--chips", "0", "--vendor", "AMD"], 2,
     "Error: --chips: '0' is not a chip count; "),
    (["add", "X", "--country", "FR", "--chips", "ten", "--vendor", "AMD"], 2,
     "Error: --chips: 'ten' is not a chip count; "),
    (["add", "X", "--country", "FR", "--chips", "1.5", "--vendor", "AMD"], 2,
     "Error: --chips: '1.5' is not a chip count; "),
    (["add", "X", "--country", "FR", "--chips", "100"], 2,
     "Error: --vendor: is needed with chips; use `unknown` when it was not disclosed"),
    (["add", "X", "--country", "FR", "--vendor", "AMD"], 2,
     "Error: --chips: is needed with vendor and model; give the chip count"),
    (["add", "X", "--country", "FR", "--announced", "2025-02-30"], 2,
     "Error: --announced: day is out of range for month in '2025-02-30'; use a day, such as 2025-06-11, "
     "11 June 2025 or 2025年6月11日"),
    (["add", "X", "--country", "FR", "--announced", "Q2 2025"], 2,
     "Error: --announced: 'Q2 2025' is a quarter; give a day, such as 2025-06-11, 11 June 2025 "
     "or 2025年6月11日"),
    (["add", "X", "--country", "FR", "--online", "Q5 2025"], 2,
     "Error: --online: quarter 5 does not exist in 'Q5 2025'; use "),
    (["add", "X", "--country", "FR", "--online", "2025-13"], 2,
     "Error: --online: month 13 does not exist in '2025-13'; use "),
    (["add", "X", "--country", "FR", "--power-mw", "-3"], 2,
     "Error: --power-mw: '-3' is not a power; give megawatts above 0 and up to 100,000, with at most 3 "
     "decimals, such as 120 or 1.5"),
    (["add", "X", "--country", "FR", "--id", "Not An Id"], 2,
     "Error: --id: 'Not An Id' is not a valid id; use lower-case letters, digits and single hyphens, "
     "such as not-an-id"),
    (["add", "X"], 2,
     "Error: --country: is missing; give a country code or name, such as FR (or a region --scope for a "
     "programme)"),
    (["add", "★ ☆", "--country", "JP"], 2,
     "Error: --id: cannot make an id from the name '★ ☆'; give one, such as tokyo-campus"),
    (["add", "X", "--country", "FR", "--source", "Reuters | 2025-06-11"], 2,
     "Error: --source: 'Reuters | 2025-06-11' holds ' | ', which separates sources"),
    (["add", "  ", "--country", "FR"], 2, "Error: NAME: is empty; every entry needs a name"),
    (["add", "Paris One", "--country", "FR"], 1,
     "Error: id 'paris-one' is already taken by 'Paris One'; if it is a different one, give it its own --id"),
    (["add", "Other", "--id", "paris-one", "--country", "FR"], 1,
     "Error: --id: id 'paris-one' is already taken by 'Paris One'; choose another id"),
    (["add", "X", "--country", "FR", "--online", "Q4"], 2, "Error: --online: a year is needed in 'Q4'; use "),
    (["add", "X", "--country", "FR", "--source", " "], 2,
     "Error: --source: is empty; give a URL or a citation"),
    (["add", "X", "--country", "FR", "--announced", "2099-01-01"], 2,
     "Error: --announced: 2099-01-01 is in the future; an announcement has a date that has passed"),
    (["remove", "paris-one", "paris-two", "--yes"], 2,
     "Error: Got unexpected extra argument (paris-two). See 'tracker remove --help'."),
    (["summary", "--region", "mars"], 2,
     "Error: --region: unknown region 'mars'; known regions: africa, asia, eu, europe, gcc, latin-america, "
     "middle-east, north-america, oceania"),
    (["summary", "--status", "done"], 2, "Error: --status: unknown status 'done'; "),
    (["summary", "--by", "planet"], 2, "Error: Invalid value for '--by': 'planet' is not one of "),
    (["list", "--country", "Atlantis"], 2, "Error: --country: unknown country 'Atlantis'; use "),
    (["summary", "--announced-since", "yesterday"], 2,
     "Error: --announced-since: cannot read 'yesterday'; use "),
    (["summary", "--announced-since", "2025-12-01", "--announced-until", "2025-01-01"], 2,
     "Error: --announced-until: 2025-01-01 is before 2025-12-01, the first day given"),
    (["add", "X", "--country", "FR", "--chips", "10", "--chips", "20", "--vendor", "AMD"], 2,
     "Error: --chips: is given 2 times; an entry is added with one chip lot"),
    (["add", "X", "--country", "FR", "--chips", "10", "--chips", "20", "--unit", "rack",
      "--vendor", "NVIDIA"], 2, "Error: --chips: is given 2 times; an entry is added with one chip lot"),
    # An option given twice is refused, not taken as its last value.
    (["add", "X", "--country", "FR", "--country", "DE"], 2,
     "Error: --country: is given 2 times; give it once"),
    (["update", "paris-one", "--city", "Paris", "--city", "Lyon"], 2,
     "Error: --city: is given 2 times; give it once"),
    (["update", "paris-one", "--lot", "1", "--chips", "5", "--chips", "6"], 2,
     "Error: --chips: is given 2 times; give it once"),
    (["add", "X", "--country", "EU"], 2,
     "Error: --country: unknown country 'EU'; it is a region: filter by it with --region eu. Use "),
    (["chips", "add", "Etched", "Sohu"], 2, "Error: VENDOR: unknown vendor 'Etched'; known vendors: "),
    (["regions", "europa"], 2, "Error: REGION: unknown region 'europa'; known regions: "),
    (["add", "Ctl\x01name\x1b[31m", "--country", "NO"], 2,
     "Error: NAME: holds the control character U+0001; remove it"),
    (["import", "--dry-rn", "x.csv"], 2,
     "Error: No such option '--dry-rn'. Did you mean '--dry-run'? See 'tracker import --help'."),
    (["import", "--from", "epoch", "missing.csv"], 2, "Error: FILE: missing.csv does not exist"),
    (["export", "--output-dir", ""], 2,
     "Error: Invalid value for '--output-dir': give a folder. See 'tracker export --help'."),
    (["add", "X", "--country", "FR", "--power-mw", "1,5"], 2, "Error: --power-mw: '1,5' is not a power; "),
    (["add", "X", "--country", "FR", "--chips", "١٠٠", "--vendor", "AMD"], 2,
     "Error: --chips: '١٠٠' is not a chip count; "),
    (["add", "X", "--country", "FR", "--model", "H100"], 2,
     "Error: --vendor: is needed with chips; use `unknown` when it was not disclosed; "
     "--chips: is needed with vendor and model; give the chip count"),
    (["add", "X", "--country", "FR", "--note", "bad \udcff byte"], 2,
     "Error: the value of --note is not UTF-8 text"),
    (["show", "bad \udcff id"], 2, "Error: the 4th argument is not UTF-8 text"),
    (["chips", "add", "NVIDIA", "NVIDIA H100"], 1,
     "Error: MODEL: 'NVIDIA H100' already means NVIDIA model 'H100'"),
    (["chips", "add", "NVIDIA", "X9", "--alias", "Nvidia B300"], 1,
     "Error: --alias: 'Nvidia B300' already means NVIDIA model 'B300'"),
    (["chips", "add", "NVIDIA", "X" * 61], 2, "Error: MODEL: is 61 characters long; at most 60 are allowed"),
    (["add", "X", "--country", "FR", "--source", "源" * 700], 2,
     "Error: --source: is longer than 2,000 bytes; cite it more briefly"),
    (["show", "no-such-entry"], 1, "Error: no entry with id 'no-such-entry'; `tracker list` shows the ids"),
    (["remove", "no-such-entry", "--yes"], 1,
     "Error: no entry with id 'no-such-entry'; `tracker list` shows the ids"),
    (["add", "X", "--country", "FR", "--bogus"], 2,
     "Error: No such option '--bogus'. See 'tracker add --help'."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "message"), BAD_INPUTS, ids=[" ".join(args) for args, _, _ in BAD_INPUTS]
)
def test_bad_input_is_one_line_and_changes_nothing(
    tracker: Tracker, args: list[str], code: int, message: str
) -> None:
    add_announcements(tracker)
    before = database_contents(tracker)
    result = tracker(*args)
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert message.endswith(" ") or lines[0] == message
    assert database_contents(tracker) == before


def test_several_bad_fields_are_all_reported_on_one_line(tracker: Tracker) -> None:
    result = tracker(
        "add", "X", "--country", "Atlantis", "--chips", "0", "--vendor", "AMD", "--online", "never"
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: --country: unknown country 'Atlantis'; ")
    assert "; --chips: '0' is not a chip count; " in result.stderr
    assert "; --online: cannot read 'never'; " in result.stderr


def test_a_probable_duplicate_is_added_with_a_warning(seeded_tracker: Tracker) -> None:
    result = seeded_tracker(
        "add", "Mistral AI and NVIDIA", "--country", "France", "--chips", "18000", "--vendor", "NVIDIA"
    )
    assert result.exit_code == 0
    assert result.stdout == "mistral-ai-and-nvidia\n"
    assert result.stderr.startswith(
        "Warning: mistral-ai-and-nvidia may be the same announcement as mistral-ai-compute-fr (same country, "
    )
    undisclosed = seeded_tracker(
        "add", "Undisclosed", "--country", "FRA", "--chips", "18000", "--vendor", "unknown"
    )
    assert (
        "may be the same announcement as mistral-ai-and-nvidia, mistral-ai-compute-fr" in undisclosed.stderr
    )
    quiet = seeded_tracker("add", "Other French site", "--country", "FR", "--chips", "500", "--vendor", "AMD")
    assert quiet.stderr == ""


def test_keys_and_formats_are_read_in_any_case(tracker: Tracker) -> None:
    add_announcements(tracker)
    assert (
        tracker.ok("summary", "--by", "Country", "--format", "CSV").splitlines()[0]
        == "country,entries,chips,qualifier,h100e,h100e_chips,power_mw,power_mw_estimated,power_chips,"
        "h100e_basis,power_factor"
    )


def test_a_long_name_gives_an_id_cut_at_a_word(tracker: Tracker) -> None:
    name = "The " + "Very " * 30 + "Long Campus"
    new_id = tracker.ok("add", name, "--country", "FR").strip()
    assert len(new_id) <= 80
    assert new_id.startswith("the-very-very")
    assert new_id.endswith("-very")
    assert tracker.ok("show", new_id).splitlines()[0] == name


def test_a_name_without_latin_letters_takes_the_id_given(tracker: Tracker) -> None:
    assert tracker.ok("add", "東京", "--id", "tokyo", "--country", "JP") == "tokyo\n"
    assert tracker.ok("show", "tokyo").splitlines()[0] == "東京"


def test_summary_by_region_keeps_countries_of_no_region(tracker: Tracker) -> None:
    tracker.ok("add", "Polar", "--country", "AQ", "--chips", "7", "--vendor", "AMD")
    tracker.ok("add", "Paris", "--country", "FR", "--chips", "3", "--vendor", "AMD")
    rows = csv_lines(tracker.ok("summary", "--by", "region", "--format", "csv"))
    assert rows == ["region,entries,chips,qualifier", ",1,7,exact", "eu,1,3,exact", "europe,1,3,exact"]
    table = tracker.ok("summary", "--by", "region").splitlines()
    assert table[2].split() == ["(no", "region)", "1", "7"]


def test_list_status_filter_reads_lots_and_entries_without_lots(tracker: Tracker) -> None:
    add_announcements(tracker)
    tracker.ok("add", "Planned, no count", "--country", "FR", "--status", "planned")
    listed = tracker.ok("list", "--status", "planned", "--format", "csv")
    assert [row["id"] for row in csv.DictReader(io.StringIO(listed))] == [
        "paris-two",
        "planned-no-count",
        "undisclosed-madrid",
    ]
    listed = tracker.ok("list", "--status", "planned", "--vendor", "AMD", "--format", "csv")
    assert [row["id"] for row in csv.DictReader(io.StringIO(listed))] == ["paris-two"]


def test_regions_and_their_countries(tracker: Tracker) -> None:
    regions = list(csv.DictReader(io.StringIO(tracker.ok("regions", "--format", "csv"))))
    assert {row["region"]: int(row["countries"]) for row in regions}["eu"] == 27
    gcc = tracker.ok("regions", "GCC", "--format", "csv")
    assert csv_lines(gcc)[1:] == [
        "AE,United Arab Emirates",
        "BH,Bahrain",
        "KW,Kuwait",
        "OM,Oman",
        "QA,Qatar",
        "SA,Saudi Arabia",
    ]


def test_the_chip_catalogue_can_be_listed_and_extended(tracker: Tracker) -> None:
    listed = tracker.ok("chips", "--vendor", "amd", "--format", "csv")
    assert "AMD,MI300X,CDNA 3,Instinct MI300X," in listed
    assert tracker("add", "X", "--country", "US", "--chips", "5", "--vendor", "Etched").exit_code == 2
    assert (
        tracker.ok("chips", "add", "Etched", "Sohu", "--new-vendor", "--alias", "Sohu ASIC")
        == "Etched Sohu\n"
    )
    tracker.ok(
        "add",
        "X",
        "--country",
        "US",
        "--chips",
        "5",
        "--vendor",
        "etched",
        "--model",
        "sohu asic",
    )
    assert tracker.export().splitlines()[1].split(",")[13:16] == ["Etched", "Sohu", "5"]
    again = tracker("chips", "add", "etched", "so hu")
    assert again.exit_code == 1
    assert again.stderr == "Error: MODEL: 'so hu' already means Etched model 'Sohu'\n"


def test_every_command_has_help(tracker: Tracker) -> None:
    for command in (
        "init",
        "add",
        "list",
        "show",
        "remove",
        "summary",
        "export",
        "regions",
        "chips",
        "chips add",
    ):
        result = tracker(*command.split(), "--help")
        assert result.exit_code == 0
        assert "Usage: " in result.stdout
        assert len(result.stdout.splitlines()) > 3


def test_every_command_is_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for command in (
        "init",
        "add",
        "list",
        "show",
        "remove",
        "summary",
        "export",
        "regions",
        "chips",
        "chips add",
    ):
        assert f"tracker {command}" in readme, command


def test_the_command_list_gives_each_commands_own_short_help() -> None:
    from tracker.cli import COMMANDS, cli

    context = click.Context(cli)
    for name, (_, _, short) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None
        assert command.name == name
        assert short == command.get_short_help_str(10**6)


def test_help_loads_no_command_and_no_database_code() -> None:
    code = (
        "import sys; from tracker.cli import main; sys.argv = ['tracker', '--help']\n"
        "try: main()\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if 'sqlalchemy' in m or m.startswith('tracker.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.endswith("['tracker.cli.app']\n")
    assert re.search(r"\n  summary +Planned accelerators, grouped, most chips first\.\n", out)


RLO = "\u202e"  # a right-to-left override: "Nebius \u202eKU" reads "Nebius UK"
READS_OTHERWISE = "which makes text read otherwise than it is stored; remove it"
# Every free-text input, given a character that makes it read otherwise than it is stored.
UNSEEN = [
    (["add", f"Nebius {RLO}KU", "--country", "GB"], "NAME: holds U+202E, a right-to-left override, "),
    (["add", "X", "--country", "FR", "--operator", f"Acme{RLO}"], "--operator: holds U+202E, "),
    (["add", "X", "--country", "FR", "--city", "Par\u200bis"], "--city: holds U+200B, a zero-width space, "),
    (["add", "X", "--country", "FR", "--note", "a\u2066b"],
     "--note: holds U+2066, a left-to-right isolate, "),
    (["add", "X", "--country", "FR", "--source", "https://e.org/\ufeffa"],
     "--source: holds U+FEFF, a byte-order mark, "),
    (["update", "paris-one", "--name", f"P{RLO}"], "--name: holds U+202E, "),
    (["update", "paris-one", "--operator", "\u202aA"],
     "--operator: holds U+202A, a left-to-right embedding, "),
    (["update", "paris-one", "--city", "\u2069"], "--city: holds U+2069, a pop directional isolate, "),
    (["update", "paris-one", "--note", "\u202c"], "--note: holds U+202C, a pop directional formatting, "),
    (["update", "paris-one", "--source", f"x{RLO}"], "--source: holds U+202E, "),
    (["status", "paris-one", "planned", "--on", "2025-07-01", "--unsourced", "--note", "\u2067x"],
     "--note: holds U+2067, a right-to-left isolate, "),
    (["status", "paris-one", "planned", "--on", "2025-07-01", "--source", "\u202bx"],
     "--source: holds U+202B, a right-to-left embedding, "),
    (["remove", "paris-one", "--yes", "--note", "dup\u2068"],
     "--note: holds U+2068, a first strong isolate, "),
    (["tokens", "add", f"Cloud{RLO}", "--as-of", "2025-05", "--per-day", "5B", "--source", "s"],
     "PROVIDER: holds U+202E, "),
    (["tokens", "add", "Cloud", "--as-of", "2025-05", "--per-day", "5B", "--source", "s", "--note", "\u202d"],
     "--note: holds U+202D, a left-to-right override, "),
    (["chips", "add", "AMD", f"MI{RLO}999"], "MODEL: holds U+202E, "),
    (["chips", "add", "AMD", "MI999", "--family", "\ufeffCDNA"], "--family: holds U+FEFF, "),
    (["chips", "add", "AMD", "MI999", "--alias", "mi\u200b999"], "--alias: holds U+200B, "),
    (["chips", "add", "AMD", "MI999", "--note", f"{RLO}"], "--note: holds U+202E, "),
    (["chips", "add", f"Etch{RLO}", "Sohu", "--new-vendor"], "VENDOR: holds U+202E, "),
    (["chips", "set", "AMD", "MI300X", "--tdp-w", "750", "--source", f"sheet{RLO}"],
     "--source: holds U+202E, "),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"), UNSEEN, ids=[" ".join(args[:2]) + f" {m.split(':')[0]}" for args, m in UNSEEN]
)
def test_every_free_text_input_refuses_characters_that_make_it_read_otherwise(
    tracker: Tracker, args: list[str], message: str
) -> None:
    add_announcements(tracker)
    before = database_contents(tracker)
    result = tracker(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"Error: {message}")
    assert result.stderr.endswith(f"{READS_OTHERWISE}\n")
    assert result.stderr.count("\n") == 1
    assert database_contents(tracker) == before


def test_a_cell_holding_a_byte_order_mark_is_refused_and_one_opening_the_file_is_not(
    tracker: Tracker, tmp_path: Path
) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffid,name,country\nok,Fine,FR\nbad,Hidden\ufeffmark,FR\n", encoding="utf-8")
    result = tracker("import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"{path}:3: name: holds U+FEFF, a byte-order mark, {READS_OTHERWISE}"
    )
    path.write_text("\ufeffid,name,country\nok,Fine,FR\n", encoding="utf-8")
    assert tracker.ok("import", str(path)) == "1 added, 0 updated, 0 unchanged\n"


def test_a_persian_name_keeps_its_zero_width_non_joiner_through_export_and_import(
    tracker: Tracker, tmp_path: Path
) -> None:
    name = "مرکز داده\u200cی تهران"  # the non-joiner keeps "ی" from joining "داده"
    operator = "ابر\u200cرایانه"
    tracker.ok("add", name, "--id", "tehran-dc", "--country", "IR", "--operator", operator,
               "--chips", "100", "--vendor", "AMD", "--note", "क्\u200dष")  # fmt: skip
    exported = tracker.export()
    [row] = csv.DictReader(io.StringIO(exported))
    assert (row["name"], row["operator"], row["notes"]) == (name, operator, "क्\u200dष")
    path = tmp_path / "persian.csv"
    path.write_text(exported, encoding="utf-8")
    other = Tracker(f"sqlite:///{tmp_path / 'other.db'}")
    assert other.ok("import", str(path)) == "1 added, 0 updated, 0 unchanged\n"
    assert other.export() == exported
    assert other.ok("show", "tehran-dc").splitlines()[0] == name
