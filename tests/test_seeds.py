"""The bundled seeds: the source note's figures, regions and the chip catalogue."""

from __future__ import annotations

import csv
import importlib.resources
import io

import pycountry
import pytest

from tests.conftest import Tracker, export_cells
from tests.test_capacity import estimated_mw
from tracker.model.values import POWER_FACTOR

SEED_NOTE = (
    "Kaiyuan Securities research institute, note on sovereign AI and token consumption (in Chinese), mid-2025"
)
GTC_PARIS = "NVIDIA GTC Paris keynote (at VivaTech, Paris), 2025-06-11"


def seed_text(name: str) -> str:
    return importlib.resources.files("tracker.seeds").joinpath(name).read_text(encoding="utf-8")


def seed_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(seed_text(name))))


def test_the_seed_entries_carry_the_source_notes_figures(seeded_tracker: Tracker) -> None:
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(seeded_tracker.export()))}
    figures = {
        (
            r["country"],
            r["scope"],
            r["vendor"],
            r["model"],
            r["chips"],
            r["qualifier"],
            r["online"],
            r["parent"],
        )
        for r in rows.values()
    }
    plan = "europe-ai-factories-plan"
    assert figures == {
        ("", "europe", "NVIDIA", "", "500000", "at-least", "", ""),  # 5 gigafactories of over 100,000
        ("FR", "", "NVIDIA", "Grace Blackwell", "18000", "exact", "", plan),
        ("DE", "", "NVIDIA", "", "10000", "exact", "", plan),
        ("GB", "", "NVIDIA", "B300", "4000", "exact", "2025-Q4", ""),
        # Reported since (seeds/later_entries.csv): a site of its own, not an overwrite.
        ("FR", "", "NVIDIA", "GB300", "13800", "exact", "2026-Q2", ""),
    }
    assert "20 AI factories" in rows[plan]["name"]
    noted = [row for row in rows.values() if row["id"] != "mistral-ai-bruyeres-le-chatel"]
    for row in noted:
        assert row["announced"] == "2025-06-11"
        assert row["sources"].split(" | ")[:2] == [SEED_NOTE, GTC_PARIS]
    # Only the German factory's opening is recorded (press, 2026-02-04): the others stay as
    # the note announced them.
    assert {row["id"]: row["status"] for row in noted} == {
        plan: "announced",
        "mistral-ai-compute-fr": "announced",
        "nebius-uk": "announced",
        "nvidia-industrial-ai-factory-de": "operational",
    }


def test_the_european_planned_totals_of_the_seeds(seeded_tracker: Tracker) -> None:
    out = seeded_tracker.ok("summary", "--region", "europe", "--format", "csv")
    catalogue = {row["model"]: row for row in seed_rows("chip_models.csv") if row["vendor"] == "NVIDIA"}

    def h100e(chips: int, model: str) -> float:
        return chips * float(catalogue[model]["bf16_tflops"]) / float(catalogue["H100"]["bf16_tflops"])

    # FR: Mistral AI's 18,000 Grace Blackwell (40 MW reported) and 13,800 GB300 (44 MW); DE:
    # 10,000 of no model (12 MW reported); GB: 4,000 B300 without reported power, estimated
    # from TDP x the power factor. The Europe-wide plan counts only what Mistral AI's first site and the
    # German factory do not cover: 500,000 - 18,000 - 10,000.
    fr = h100e(18_000, "Grace Blackwell") + h100e(13_800, "GB300")
    gb_mw = estimated_mw(4_000 * int(catalogue["B300"]["tdp_w"]))
    measure = f"bf16,{POWER_FACTOR}"
    assert out.splitlines() == [
        "country,vendor,entries,chips,qualifier,h100e,h100e_chips,power_mw,power_mw_estimated,power_chips,"
        "h100e_basis,power_factor",
        f",NVIDIA,1,{500_000 - 18_000 - 10_000},at-least,,0,,,0,{measure}",
        f"FR,NVIDIA,2,{18_000 + 13_800},exact,{round(fr, 1)},31800,{40.0 + 44.0},0.0,31800,{measure}",
        f"DE,NVIDIA,1,10000,exact,,0,12.0,0.0,10000,{measure}",
        f"GB,NVIDIA,1,4000,exact,{round(h100e(4_000, 'B300'), 1)},4000,{gb_mw},{gb_mw},4000,{measure}",
    ]


def test_the_seeded_database_is_the_seed_files_with_the_developments_applied(seeded_tracker: Tracker) -> None:
    # The note's entries as announced, the entries reported since, and then each update of
    # seeds/developments.csv: nothing else differs, and the chip counts are the note's.
    seeds = export_cells(seed_text("entries.csv")) + export_cells(seed_text("later_entries.csv"))
    expected = [dict(row) for row in seeds]
    for row in expected:  # each first due when the seeds first give it a date
        if "online" in row:
            row["first_online"] = row["online"]
    for change in seed_rows("developments.csv"):
        for row in expected:
            if row["id"] != change["entry"]:
                continue
            if change["action"] == "update" and change["value"]:
                row[change["field"]] = change["value"]
            elif change["action"] == "update":  # cleared
                row.pop(change["field"], None)
            elif change["action"] == "status":
                row["status"] = change["value"]
            sources = [source for source in row["sources"].split(" | ") if source]
            row["sources"] = " | ".join(sorted({*sources, change["source"]}))
    for row in expected:
        row["sources"] = " | ".join(sorted(row["sources"].split(" | ")))
    assert export_cells(seeded_tracker.export()) == sorted(expected, key=lambda row: row["id"])


def test_the_seed_sources_are_dated_where_the_source_is(seeded_tracker: Tracker) -> None:
    shown = seeded_tracker.ok("show", "nebius-uk")
    assert f"- {GTC_PARIS} (primary, NVIDIA, 2025-06-11)" in shown
    assert f"- {SEED_NOTE} (secondary, Kaiyuan Securities)" in shown


M49_CONTINENTS = ("africa", "asia", "europe", "latin-america", "north-america", "oceania")


def region_members() -> dict[str, set[str]]:
    members: dict[str, set[str]] = {}
    for row in seed_rows("region_countries.csv"):
        members.setdefault(row["region"], set()).add(row["country"])
    return members


def test_every_country_but_antarctica_is_in_one_m49_continent_cyprus_in_two() -> None:
    members = region_members()
    codes = {country.alpha_2 for country in pycountry.countries}
    for code in codes - {"AQ"}:
        continents = [region for region in M49_CONTINENTS if code in members[region]]
        assert continents == (["asia", "europe"] if code == "CY" else continents[:1]), code
        assert len(continents) >= 1, code
    assert all(members[region] <= codes for region in members)


def test_regions_nest_as_their_definitions_say() -> None:
    members = region_members()
    assert len(members["eu"]) == 27
    assert members["eu"] <= members["europe"]
    assert {"GB", "NO", "CH"} <= members["europe"] - members["eu"]
    assert members["gcc"] == {"BH", "KW", "OM", "QA", "SA", "AE"}
    assert members["gcc"] <= members["middle-east"]
    assert "MX" in members["latin-america"]
    assert "MX" not in members["north-america"]
    assert {row["id"] for row in seed_rows("regions.csv")} == set(members)


def test_every_region_names_its_source() -> None:
    for row in seed_rows("regions.csv"):
        assert row["source"].strip(), row["id"]


@pytest.mark.parametrize(
    ("vendor", "models"),
    [
        ("NVIDIA", {"A100", "H100", "H200", "H20", "GH200", "B200", "B300", "GB200", "GB300"}),
        ("AMD", {"MI250X", "MI300X", "MI325X", "MI355X"}),
        ("Intel", {"Gaudi 3"}),
        ("Google", {"TPU v5p", "TPU v6e", "TPU v7"}),
        ("Huawei", {"Ascend 910B", "Ascend 910C"}),
        ("AWS", {"Trainium2"}),
    ],
)
def test_the_catalogue_covers_the_main_accelerators(vendor: str, models: set[str]) -> None:
    seeded = {row["model"] for row in seed_rows("chip_models.csv") if row["vendor"] == vendor}
    assert models <= seeded


def test_the_catalogue_aliases_are_unambiguous() -> None:
    from tracker.model.names import match_key

    seen: dict[tuple[str, str], str] = {}
    for row in seed_rows("chip_models.csv"):
        spellings = [row["model"], *(a.strip() for a in row["aliases"].split("|") if a.strip())]
        for spelling in spellings:
            key = (row["vendor"], match_key(spelling))
            assert seen.setdefault(key, row["model"]) == row["model"], spelling
    vendor_keys: dict[str, str] = {}
    for row in seed_rows("chip_vendors.csv"):
        for spelling in [row["vendor"], *(a.strip() for a in row["aliases"].split("|") if a.strip())]:
            assert vendor_keys.setdefault(match_key(spelling), row["vendor"]) == row["vendor"], spelling


def test_init_never_brings_back_a_removed_seed_entry(seeded_tracker: Tracker) -> None:
    seeded_tracker.ok("remove", "nebius-uk", "--yes")
    before = seeded_tracker.export()
    result = seeded_tracker("init")
    assert "0 seed entries added" in result.stderr
    assert seeded_tracker.export() == before


def test_init_loads_the_seed_entries_skipped_by_no_seed_once(empty_db_url: str) -> None:
    tracker = Tracker(empty_db_url)
    assert "0 seed entries added" in tracker("init", "--no-seed").stderr
    assert "5 seed entries added" in tracker("init").stderr  # the note's 4, and 1 reported since
    tracker.ok("remove", "nebius-uk", "--yes")
    assert "0 seed entries added" in tracker("init").stderr
