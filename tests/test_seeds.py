"""The bundled seeds: the source note's figures, regions and the chip catalogue."""

from __future__ import annotations

import csv
import importlib.resources
import io

import pycountry
import pytest

from tests.conftest import Tracker, export_cells

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
    }
    assert "20 AI factories" in rows[plan]["name"]
    for row in rows.values():
        assert row["announced"] == "2025-06-11"
        assert row["status"] == "announced"
        assert row["sources"].split(" | ") == [SEED_NOTE, GTC_PARIS]


def test_the_european_planned_totals_of_the_seeds(seeded_tracker: Tracker) -> None:
    out = seeded_tracker.ok("summary", "--region", "europe", "--format", "csv")
    # The Europe-wide plan counts only what Mistral AI and the German factory do not cover.
    assert out.splitlines() == [
        "country,vendor,entries,chips,qualifier,h100e,h100e_chips,power_mw,power_mw_estimated,power_chips",
        ",NVIDIA,1,472000,at-least,,0,,,0",
        "FR,NVIDIA,1,18000,exact,45477.5,18000,,,0",
        "DE,NVIDIA,1,10000,exact,,0,,,0",
        "GB,NVIDIA,1,4000,exact,9095.5,4000,6.6,6.6,4000",
    ]


def test_the_seed_file_is_the_export_of_the_seeded_database(seeded_tracker: Tracker) -> None:
    exported, seeds = seeded_tracker.export(), seed_text("entries.csv")
    header, seeds_header = exported.splitlines()[0], seeds.splitlines()[0]
    if header == seeds_header:
        assert exported == seeds  # byte for byte
    else:  # columns added to the export since the file was written: empty for the seeds
        assert header.startswith(seeds_header + ",")
        assert export_cells(exported) == export_cells(seeds)


def test_the_seed_sources_are_dated_where_the_source_is(seeded_tracker: Tracker) -> None:
    shown = seeded_tracker.ok("show", "nebius-uk")
    assert f"- {GTC_PARIS} (NVIDIA, 2025-06-11)" in shown
    assert f"- {SEED_NOTE} (Kaiyuan Securities)" in shown


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
    assert "4 seed entries added" in tracker("init").stderr
    tracker.ok("remove", "nebius-uk", "--yes")
    assert "0 seed entries added" in tracker("init").stderr
