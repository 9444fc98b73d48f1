"""Sovereignty: operators as records, vendors' nationality, summaries and the sovereignty
report by nationality, sources' grades and verifications."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tests.test_seeds import seed_rows

SRC = ("--source", "https://example.org/s")
DAY = "2025-01-01 00:00:00"
ABOUT = ("--source", "https://example.org/about")


def rows_of(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def operators(tracker: Tracker) -> dict[str, dict[str, str]]:
    return {row["operator"]: row for row in rows_of(tracker.ok("operators", "--format", "csv"))}


def sovereignty(tracker: Tracker, *args: str) -> dict[str, dict[str, int | str]]:
    out = tracker.ok("sovereignty", *args, "--format", "csv")
    return {
        row["country"]: {
            key: (value if key in ("country", "qualifier") else int(value)) for key, value in row.items()
        }
        for row in rows_of(out)
    }


def add(tracker: Tracker, name: str, country: str, chips: str, *more: str) -> str:
    return tracker.ok(
        "add", name, "--country", country, "--chips", chips, "--vendor", "NVIDIA", *SRC, *more
    ).strip()


# Operators: matched by name or alias, new ones recorded with a warning.


def test_an_operator_is_matched_by_its_name_or_an_alias_whatever_its_case_and_punctuation(
    tracker: Tracker,
) -> None:
    for spelling in ("nebius ai", "NEBIUS", "Nebius-Group"):
        result = tracker("add", f"Site {spelling}", "--country", "GB", "--operator", spelling, *SRC)
        assert result.exit_code == 0
        assert "new operator" not in result.stderr
    listed = rows_of(tracker.ok("list", "--format", "csv"))
    assert {row["operator"] for row in listed} == {"Nebius"}
    assert operators(tracker)["Nebius"]["entries"] == "3"


def test_a_name_not_known_is_a_new_operator_without_headquarters_with_a_hint(tracker: Tracker) -> None:
    result = tracker("add", "Joint site", "--country", "NO", "--operator", "Nscale and Aker", *SRC)
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: new operator 'Nscale and Aker' (did you mean 'Nscale'?), without a headquarters country; "
        "`tracker operators set 'Nscale and Aker' --hq C --source URL` gives it\n"
    )
    new = operators(tracker)["Nscale and Aker"]
    assert (new["hq_country"], new["kind"], new["source"], new["entries"]) == ("", "", "", "1")
    # Known from now on: no warning the second time.
    again = tracker("add", "Joint site 2", "--country", "SE", "--operator", "NSCALE AND AKER", *SRC)
    assert (again.exit_code, again.stderr) == (0, "")


def test_update_matches_operators_and_an_import_warns_once_of_all_new_ones(
    tracker: Tracker, tmp_path: Path
) -> None:
    add(tracker, "Site", "FR", "10")
    changed = tracker("update", "site", "--operator", "mistral")
    assert changed.stderr == "site: operator: (none) -> Mistral AI\n"
    path = tmp_path / "file.csv"
    path.write_text(
        "id,name,country,operator,chips,vendor\n"
        "a,A,FR,Brand New One,1,AMD\n"
        "b,B,FR,Brand New Two,1,AMD\n"
        "c,C,FR,brand new one,1,AMD\n"
        "d,D,FR,Meta AI,1,AMD\n",
        encoding="utf-8",
    )
    result = tracker("import", str(path))
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: 2 new operators, without a headquarters country: 'Brand New One', "
        "'Brand New Two'; "
        "`tracker operators` lists them, `tracker operators set` gives their headquarters\n"
    )
    stored = {row["id"]: row["operator"] for row in rows_of(tracker.export())}
    assert (stored["a"], stored["b"], stored["c"], stored["d"]) == (
        "Brand New One",
        "Brand New Two",
        "Brand New One",
        "Meta",
    )


def test_operators_add_records_once_and_refuses_other_values(tracker: Tracker) -> None:
    args = (
        "operators",
        "add",
        "Example Cloud",
        "--hq",
        "Netherlands",
        "--kind",
        "private",
        "--alias",
        "ExCloud",
        *ABOUT,
    )
    assert tracker.ok(*args) == "Example Cloud\n"
    again = tracker(*args)
    assert (again.exit_code, again.stdout, again.stderr) == (
        0, "", "Example Cloud: already recorded with these values; nothing changed.\n",
    )  # fmt: skip
    other = tracker("operators", "add", "example cloud", "--hq", "DE", *ABOUT)
    assert (other.exit_code, other.stderr) == (
        1,
        "Error: NAME: operator 'Example Cloud' exists with other values (hq NL, kind private, group -); "
        "`tracker operators set 'Example Cloud'` changes them\n",
    )
    taken = tracker("operators", "add", "Other", "--hq", "DE", "--alias", "Nebius AI", *ABOUT)
    assert (taken.exit_code, taken.stderr) == (
        1,
        "Error: --alias: 'Nebius AI' already means operator 'Nebius'\n",
    )
    for missing, message in (
        (("--hq", "DE"), "give --source: every operator's headquarters comes with its source"),
        (ABOUT, "give --hq: every operator's headquarters comes with its source"),
    ):
        result = tracker("operators", "add", "Unsourced", *missing)
        assert (result.exit_code, result.stderr.splitlines()[-1]) == (
            2, f"Error: {message}. See 'tracker operators add --help'.",
        )  # fmt: skip
    bad = tracker("operators", "add", "Bad", "--hq", "Atlantis", *ABOUT)
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: --hq: unknown country 'Atlantis'")
    assert "Unsourced" not in operators(tracker)
    assert "Bad" not in operators(tracker)


def test_an_operator_renamed_keeps_its_entries_and_its_old_name_as_an_alias(tracker: Tracker) -> None:
    add(tracker, "Site", "GB", "100", "--operator", "Old Name Ltd")
    result = tracker(
        "operators", "set", "old name ltd", "--rename", "New Name", "--hq", "GB", "--kind", "private", *ABOUT
    )
    assert (result.exit_code, result.stdout) == (0, "New Name\n")
    listed = operators(tracker)
    assert "Old Name Ltd" not in listed
    new = listed["New Name"]
    assert (new["hq_country"], new["kind"], new["aliases"], new["entries"], new["chips"]) == (
        "GB", "private", "Old Name Ltd", "1", "100",
    )  # fmt: skip
    assert rows_of(tracker.export())[0]["operator"] == "New Name"
    # The old name still finds it, and the entry's history keeps the change with its source.
    add(tracker, "Other site", "GB", "5", "--operator", "OLD NAME LTD")
    assert operators(tracker)["New Name"]["entries"] == "2"
    edits = json.loads(tracker.ok("show", "site", "--format", "json"))["edits"]
    assert [(e["field"], e["old"], e["new"], e["source"]) for e in edits] == [
        ("operator", "Old Name Ltd", "New Name", "https://example.org/about")
    ]


def test_an_operator_merged_as_an_alias_takes_the_others_entries(tracker: Tracker) -> None:
    add(tracker, "Big site", "NO", "300", "--operator", "Nscale")
    add(tracker, "Typo site", "NO", "200", "--operator", "N-Scale Compute")  # a new operator
    result = tracker("operators", "set", "Nscale", "--alias", "N-Scale Compute", *ABOUT)
    assert result.exit_code == 0
    assert "Nscale: merged 'N-Scale Compute' into it" in result.stderr
    listed = operators(tracker)
    assert "N-Scale Compute" not in listed
    assert (listed["Nscale"]["entries"], listed["Nscale"]["chips"]) == ("2", str(300 + 200))
    assert "N-Scale Compute" in listed["Nscale"]["aliases"].split(", ")
    assert {row["operator"] for row in rows_of(tracker.export())} == {"Nscale"}
    rows = sovereignty(tracker, "--bloc", "europe")
    # Nscale is headquartered in the UK (seeds/operators.csv): bloc for Norway's chips.
    hq = next(row["hq"] for row in seed_rows("operators.csv") if row["name"] == "Nscale")
    assert hq == "GB"
    assert rows["NO"]["operator_bloc"] == 500


def test_operators_count_a_programmes_chips_once(tracker: Tracker) -> None:
    tracker.ok("add", "Plan", "--kind", "programme", "--scope", "eu", "--chips", "1000", "--vendor", "NVIDIA",
               "--operator", "EuroHPC JU", *SRC)  # fmt: skip
    add(tracker, "Part", "DE", "400", "--parent", "plan", "--operator", "EuroHPC JU")
    add(tracker, "Other", "DE", "50", "--operator", "Jülich Supercomputing Centre")
    listed = operators(tracker)
    # The plan's 1,000 hold its part's 400: 1,000 in all, not 1,400.
    eurohpc = listed["EuroHPC Joint Undertaking"]  # EuroHPC JU is one of its names
    assert (eurohpc["entries"], eurohpc["chips"]) == ("2", "1000")
    summary = rows_of(tracker.ok("summary", "--by", "operator", "--format", "csv"))
    assert sum(int(row["chips"]) for row in summary) == 1000 + 50


# Vendors' nationality, summaries by nationality and the filters.


def test_the_catalogue_gives_each_vendors_country_with_its_source(tracker: Tracker) -> None:
    vendors = {row["vendor"]: row for row in rows_of(tracker.ok("chips", "vendors", "--format", "csv"))}
    expected = {"NVIDIA": "US", "AMD": "US", "Google": "US", "AWS": "US", "Huawei": "CN", "Cambricon": "CN",
                "Hygon": "CN", "Graphcore": "GB"}  # fmt: skip
    for vendor, country in expected.items():
        assert vendors[vendor]["country"] == country
        assert vendors[vendor]["country_source"].startswith("https://")
    assert (vendors["unknown"]["country"], vendors["unknown"]["country_source"]) == ("", "")
    models = rows_of(tracker.ok("chips", "--vendor", "Huawei", "--format", "csv"))
    assert {row["vendor_country"] for row in models} == {"CN"}


def test_summaries_group_by_nationality_and_never_drop_the_unknown(tracker: Tracker) -> None:
    add(tracker, "UK site", "GB", "4000", "--operator", "Nebius")
    add(tracker, "French site", "FR", "1000", "--operator", "Mistral AI")
    add(tracker, "Mystery site", "FR", "300", "--operator", "Somebody New")
    tracker.ok("add", "Undisclosed", "--country", "DE", "--chips", "20", "--vendor", "unknown", *SRC)
    by_operator = {
        row["operator-country"]: int(row["chips"])
        for row in rows_of(tracker.ok("summary", "--by", "operator-country", "--format", "csv"))
    }
    assert by_operator == {"NL": 4000, "FR": 1000, "": 300 + 20}
    by_vendor = {
        row["vendor-country"]: int(row["chips"])
        for row in rows_of(tracker.ok("summary", "--by", "vendor-country", "--format", "csv"))
    }
    assert by_vendor == {"US": 4000 + 1000 + 300, "": 20}
    table = tracker.ok("summary", "--by", "operator-country")
    assert "(unknown)" in table
    # Filters: by operator (any spelling) and by its headquarters, repeatable.
    chips = rows_of(
        tracker.ok("summary", "--operator", "nebius ai", "--operator", "Mistral", "--format", "csv")
    )
    assert sum(int(row["chips"]) for row in chips) == 4000 + 1000
    french = rows_of(tracker.ok("list", "--operator-country", "France", "--format", "csv"))
    assert [row["id"] for row in french] == ["french-site"]
    unknown = tracker("summary", "--operator", "Nobody Ever")
    assert (unknown.exit_code, unknown.stderr.splitlines()[-1]) == (
        2, "Error: --operator: unknown operator 'Nobody Ever'; `tracker operators` lists them",
    )  # fmt: skip


# The sovereignty report.


def test_sovereignty_of_the_seeds_adds_up_and_puts_nebius_uk_under_bloc_and_foreign(
    seeded_tracker: Tracker,
) -> None:
    rows = sovereignty(seeded_tracker, "--region", "europe")
    for row in rows.values():
        for side in ("operator", "vendor"):
            assert (
                sum(int(row[f"{side}_{group}"]) for group in ("home", "bloc", "foreign", "unknown"))
                == row["chips"]
            )
    # Nebius (headquartered in Amsterdam) runs 4,000 NVIDIA (US) B300 in the UK.
    gb = rows["GB"]
    assert (gb["chips"], gb["operator_bloc"], gb["vendor_foreign"]) == (4000, 4000, 4000)
    # Deutsche Telekom runs the German factory since 2026 (seeds/developments.csv): home.
    assert rows["DE"]["operator_home"] == 10_000
    # The plan counts once, beside its parts; its factories' operators are not known.
    multi = rows["(multi-country)"]
    assert (multi["chips"], multi["operator_unknown"], multi["qualifier"]) == (
        500_000 - 18_000 - 10_000,
        472_000,
        "at-least",
    )
    summary_total = rows_of(
        seeded_tracker.ok("summary", "--region", "europe", "--by", "country", "--format", "csv")
    )
    assert sum(int(row["chips"]) for row in rows.values()) == sum(int(row["chips"]) for row in summary_total)
    table = seeded_tracker("sovereignty", "--region", "europe")
    lines = table.stdout.splitlines()
    groups = ("home", "bloc", "foreign", "unknown")
    assert lines[0].split() == [
        "country", "chips", *(f"operator_{g}" for g in groups), *(f"vendor_{g}" for g in groups)
    ]  # fmt: skip
    gb_line = next(line for line in lines if line.startswith("GB "))
    assert "4,000 (100%)" in gb_line
    total = sum(int(row["chips"]) for row in rows.values())
    assert lines[-1].split()[:3] == ["Total", "≥", f"{total:,}"]
    assert "bloc: europe" in table.stderr


def test_without_a_bloc_the_bloc_columns_are_zero_and_json_carries_raw_numbers(
    seeded_tracker: Tracker,
) -> None:
    rows = sovereignty(seeded_tracker)
    assert all(row["operator_bloc"] == row["vendor_bloc"] == 0 for row in rows.values())
    assert rows["GB"]["operator_foreign"] == 4000  # the Netherlands is foreign to the UK
    data = json.loads(seeded_tracker.ok("sovereignty", "--bloc", "eu", "--format", "json"))
    gb = next(row for row in data if row["country"] == "GB")
    assert (gb["operator_bloc"], gb["chips"]) == (
        4000,
        4000,
    )  # the UK is outside the EU, the Netherlands in it
    bad = seeded_tracker("sovereignty", "--bloc", "atlantis")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: --bloc: unknown region 'atlantis'")


def test_sovereignty_as_of_a_day_and_through_the_api(seeded_db_url: str) -> None:
    import tracker as api

    with api.open(seeded_db_url) as t:
        table = t.sovereignty(region="europe", as_of="2025-06-30")
        rows = {row["country"]: row for row in table.rows}
        # Mistral AI's own site was announced in 2026: not yet known on that day.
        assert rows["FR"]["chips"] == 18_000
        assert table.total is not None
        assert table.total["chips"] == 500_000 + 4_000


# Grades, verifications, check.


def test_a_sources_grade_is_given_with_it_and_shown(tracker: Tracker) -> None:
    tracker.ok("add", "Site", "--country", "FR", "--source", "https://press.example/a", "--grade", "press")
    listed = rows_of(tracker.ok("sources", "site", "--format", "csv"))
    assert [(row["source"], row["grade"]) for row in listed] == [("https://press.example/a", "press")]
    assert "- https://press.example/a (press)" in tracker.ok("show", "site")
    tracker.ok(
        "status",
        "site",
        "operational",
        "--on",
        "2025-01-02",
        "--source",
        "https://op.example",
        "--grade",
        "primary",
    )
    grades = {
        row["source"]: row["grade"] for row in rows_of(tracker.ok("sources", "site", "--format", "csv"))
    }
    assert grades == {"https://press.example/a": "press", "https://op.example": "primary"}
    # Every source, graded, with the entries citing it: the export of the sources.
    every = {row["source"]: row for row in rows_of(tracker.ok("sources", "--format", "csv"))}
    assert (every["https://op.example"]["grade"], every["https://op.example"]["entries"]) == ("primary", "1")
    assert every["NVIDIA GTC Paris keynote (at VivaTech, Paris), 2025-06-11"]["grade"] == "primary"  # bundled
    for args, message in (
        (
            ("--grade", "rumour", "--source", "x"),
            "Error: --grade: unknown grade 'rumour'; use one of: primary, press, secondary",
        ),
        (("--grade", "press"), "Error: --grade: goes with --source: it grades the sources given"),
    ):
        result = tracker("add", "Other", "--country", "FR", *args)
        assert (result.exit_code, result.stderr.splitlines()[0]) == (2, message)
    assert [row["id"] for row in rows_of(tracker.export())] == ["site"]


def test_verify_records_a_check_that_show_and_check_read(tracker: Tracker) -> None:
    add(tracker, "Site", "FR", "10")
    result = tracker(
        "verify", "site", "--on", "2025-03-01", "--source", "https://check.example", "--grade", "primary"
    )
    assert (result.exit_code, result.stderr) == (0, "site: verified on 2025-03-01.\n")
    record = json.loads(tracker.ok("show", "site", "--format", "json"))
    assert record["verifications"] == [{"verified_on": "2025-03-01", "source": "https://check.example"}]
    assert "- 2025-03-01 against https://check.example" in tracker.ok("show", "site")
    future = tracker("verify", "site", "--on", "2099-01-01")
    assert future.exit_code == 2
    missing = tracker("verify", "nope", "--on", "2025-01-01")
    assert missing.exit_code == 1


# The Epoch import: owners to operators.


EPOCH_HEADER = (
    "Name,Owner,Users,Country,Status,Certainty,Sector,First Operational Date,First Operational Date Note,"
    "Reported Power Capacity (MW),Note,Possible Duplicate,Possible Duplicate Of,Superseded by,Builds Upon,"
    "Total number of AI chips,Chip type (primary),Chip quantity (primary),GPU Supplier (primary),"
    "Chip type (secondary),Chip quantity (secondary),GPU supplier (secondary),Source 1,Source 2,Source 3,"
    "Source 4,Source 5"
)


def epoch_row(name: str, owner: str, users: str, country: str, chips: int) -> str:
    cells = [name, owner, users, country, "Existing", "Confirmed", "Private", *[""] * 8, str(chips), "",
             str(chips), "NVIDIA", "", "", "", "https://example.org/e", "", "", "", ""]  # fmt: skip
    return ",".join(f'"{cell}"' for cell in cells)


def test_the_epoch_import_reads_the_first_owner_as_operator_and_keeps_the_others(
    tracker: Tracker, tmp_path: Path
) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text(
        "\n".join(
            [
                EPOCH_HEADER,
                epoch_row("Joint Cluster", "OpenAI,Microsoft", "Anthropic", "US", 1000),
                epoch_row("Fluidstack Paris Campus", "", "", "FR", 300),
                epoch_row("Anonymized Chinese System", "", "", "CN", 200),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = tracker("import", "--from", "epoch", str(path))
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in rows_of(tracker.export())}
    assert (rows["Joint Cluster"]["operator"], rows["Joint Cluster"]["users"]) == (
        "OpenAI",
        "Microsoft, Anthropic",
    )
    assert rows["Fluidstack Paris Campus"]["operator"] == "Fluidstack"
    assert rows["Fluidstack Paris Campus"]["notes"].startswith("Operator read from Epoch's Name")
    assert rows["Anonymized Chinese System"]["operator"] == ""  # never guessed


@pytest.mark.slow
def test_on_the_real_epoch_file_most_chips_have_an_operator_with_known_headquarters(
    empty_db_url: str,
) -> None:
    real = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "epoch_sr3k" / "gpu_clusters.csv"
    tracker = Tracker(empty_db_url)
    tracker.ok("init", "--no-seed")
    result = tracker("import", "--from", "epoch", "--skip-invalid", str(real))
    assert result.exit_code == 0
    assert "new operator" not in result.stderr  # every owner Epoch names is a bundled operator
    by_hq = rows_of(tracker.ok("summary", "--by", "operator-country", "--format", "csv"))
    total = sum(int(row["chips"]) for row in by_hq)
    known = sum(int(row["chips"]) for row in by_hq if row["operator-country"])
    assert known / total >= 0.85
    # What the README shows of it.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    shown = readme.split("sovereignty --region europe` reads")[1].split("```text\n")[1].split("```")[0]
    printed = tracker("sovereignty", "--region", "europe")
    assert printed.stdout + printed.stderr == shown
    assert f"{known / total:.1%}" == "88.7%"
    assert f"{total:,}" in readme
    # Every imported row that names an owner has that operator.
    with real.open(encoding="utf-8") as handle:
        named = {row["Name"] for row in csv.DictReader(handle) if row["Owner"].strip()}
    for row in rows_of(tracker.export()):
        if row["name"] in named:
            assert row["operator"], row["name"]


# What a review found: renames and merges through a dump, upgrades, merges that keep values.


@pytest.mark.parametrize("new_name", ["Amazon Web Services", "aws"])
def test_an_operator_renamed_to_one_of_its_names_comes_back_whole_from_a_dump(
    tracker: Tracker, empty_db_url: str, new_name: str
) -> None:
    # The new name was a bundled alias of the operator, or its own name in other case: a new
    # database holds the bundled operator under its old name until the dump's values replace it.
    tracker.ok("operators", "set", "AWS", "--rename", new_name, *ABOUT)
    dumped = tracker.ok("dump")
    target = Tracker(empty_db_url)
    target.ok("restore", "-", input=dumped)
    assert target.ok("dump") == dumped
    listed = operators(target)
    assert new_name in listed
    assert listed[new_name]["hq_country"] == "US"
    assert "AWS" not in listed or new_name == "AWS"


def test_a_merge_keeps_the_merged_operators_values_or_refuses_to_drop_them(tracker: Tracker) -> None:
    add(tracker, "Spain site", "ES", "100", "--operator", "Huawei")
    add(tracker, "Other site", "PT", "50", "--operator", "Brand New Co")
    result = tracker("operators", "set", "Brand New Co", "--alias", "Huawei", *ABOUT)
    assert result.exit_code == 0, result.stderr
    assert "Brand New Co: hq: (none) -> CN" in result.stderr
    assert sovereignty(tracker)["ES"]["operator_foreign"] == 100  # still Chinese, not unknown
    refused = tracker("operators", "set", "Nebius", "--alias", "Mistral AI", *ABOUT)
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: --alias: 'Mistral AI' has hq FR, 'Nebius' NL: give --hq to say which the merged operator "
        "has\n",
    )
    assert "Mistral AI" in operators(tracker)


def test_operator_texts_that_name_one_operator_become_one_on_an_upgrade(empty_db_url: str) -> None:
    from tests.test_schema import _database_at

    rows = [
        "INSERT INTO entry (id, name, country, status, operator, created_at, updated_at) VALUES "
        f"('{entry_id}', 'Site', 'GB', 'announced', '{operator}', '{DAY}', '{DAY}')"
        for entry_id, operator in (("a", "Nebius"), ("b", "nebius"), ("c", "Nebius AI"), ("d", "Mistral"))
    ]
    _database_at(empty_db_url, "0007", rows).dispose()
    tracker = Tracker(empty_db_url)
    tracker.ok("init", "--no-seed")
    listed = operators(tracker)
    assert {"nebius", "Nebius AI", "Mistral"}.isdisjoint(listed)
    assert (listed["Nebius"]["entries"], listed["Nebius"]["hq_country"]) == ("3", "NL")
    assert (listed["Mistral AI"]["entries"], listed["Mistral AI"]["hq_country"]) == ("1", "FR")
    stored = {row["id"]: row["operator"] for row in rows_of(tracker.export())}
    assert stored == {"a": "Nebius", "b": "Nebius", "c": "Nebius", "d": "Mistral AI"}
    # Each entry's history keeps what it was, and on what source.
    edits = json.loads(tracker.ok("show", "c", "--format", "json"))["edits"]
    assert [(e["field"], e["old"], e["new"]) for e in edits] == [("operator", "Nebius AI", "Nebius")]
    assert edits[0]["source"].startswith("https://")


def test_an_owner_whose_name_has_a_comma_is_one_operator(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text(
        "\n".join(
            [
                EPOCH_HEADER,
                epoch_row(
                    "UK Gov Cluster", "Department for Science, Innovation and Technology,NVIDIA", "", "GB", 10
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = tracker("import", "--from", "epoch", str(path))
    assert (result.exit_code, result.stderr) == (0, "")
    row = rows_of(tracker.export())[0]
    assert (row["operator"], row["users"]) == ("Department for Science, Innovation and Technology", "NVIDIA")


def test_a_source_graded_otherwise_before_is_told_of(tracker: Tracker) -> None:
    tracker.ok("add", "G", "--country", "FR", "--source", "https://a.example", "--grade", "primary")
    result = tracker("status", "g", "operational", "--on", "2025-01-02", "--source", "https://a.example",
                     "--grade", "secondary")  # fmt: skip
    assert result.exit_code == 0
    assert "Warning: source https://a.example was graded primary, and is now secondary" in result.stderr
