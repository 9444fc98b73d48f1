"""Issue 4, programmes: plans that nest inside plans, every chip counted once (SPEC section 3)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import Tracker, export_cells
from tests.test_cli import database_contents
from tracker.model.values import POWER_FACTOR

SOURCE = ("--source", "https://example.org/plan")


def summary(tracker: Tracker, *args: str) -> list[dict[str, str]]:
    """The summary's CSV rows."""
    return list(csv.DictReader(io.StringIO(tracker.ok("summary", *args, "--format", "csv"))))


def chips_by(tracker: Tracker, key: str, *args: str) -> dict[str, int]:
    return {row[key]: int(row["chips"]) for row in summary(tracker, "--by", key, *args)}


def total_chips(table: str) -> list[str]:
    """The chips cell of a summary table's total row, split at its qualifier: ``["≥", "504,000"]``."""
    cells = table.splitlines()[-1].split()
    assert cells[0] == "Total"
    return cells[2:4] if cells[2] in ("≥", "≤", "~") else cells[2:3]


def total(tracker: Tracker, *args: str) -> str:
    """The total row's chip count, as a table shows it, without its qualifier."""
    return total_chips(tracker.ok("summary", "--by", "country", *args))[-1]


def add_programme(tracker: Tracker, name: str, chips: str, *args: str, vendor: str = "NVIDIA") -> str:
    return tracker.ok(
        "add", name, "--kind", "programme", "--chips", chips, "--vendor", vendor, *SOURCE, *args
    ).strip()


def add_child(tracker: Tracker, name: str, parent: str, chips: str, *args: str) -> str:
    if "--country" not in args:
        args = (*args, "--country", "FR")
    if "--vendor" not in args:
        args = (*args, "--vendor", "NVIDIA")
    return tracker.ok("add", name, "--parent", parent, "--chips", chips, *SOURCE, *args).strip()


def test_a_programme_whose_children_cover_it_counts_once(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "120000", "--country", "FR")
    for number in range(1, 5):
        add_child(tracker, f"Site {number}", "french-plan", "30000")
    assert chips_by(tracker, "country") == {"FR": 120_000}
    assert total(tracker) == "120,000"
    # Covered in full, the programme adds nothing, but it is one of the entries.
    assert summary(tracker, "--by", "country")[0]["entries"] == "5"


def test_the_part_of_a_programme_its_children_do_not_cover_counts_once(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "100000", "--country", "FR")
    add_child(tracker, "Site A", "french-plan", "20000", "--model", "B300")
    add_child(tracker, "Site B", "french-plan", "10000", "--vendor", "unknown")
    assert chips_by(tracker, "country") == {"FR": 100_000}
    # The programme's own lot keeps what its parts do not cover.
    assert chips_by(tracker, "model") == {
        "": 80_000,
        "B300": 20_000,
    }  # 70,000 of the plan, 10,000 undisclosed
    assert chips_by(tracker, "vendor") == {"NVIDIA": 90_000, "unknown": 10_000}
    assert total(tracker) == "100,000"


def test_a_part_covers_only_chips_that_may_be_its_programmes(tracker: Tracker) -> None:
    add_programme(tracker, "B200 plan", "100000", "--country", "FR", "--model", "B200")
    add_child(tracker, "AMD site", "b200-plan", "30000", "--vendor", "AMD")
    add_child(tracker, "H100 site", "b200-plan", "20000", "--model", "H100")
    add_child(tracker, "NVIDIA site", "b200-plan", "5000")  # model not given: may be B200s
    assert chips_by(tracker, "model") == {"B200": 95_000, "": 35_000, "H100": 20_000}
    assert total(tracker) == "150,000"


def test_removing_a_child_changes_nothing_in_the_totals(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "120000", "--country", "FR")
    for number in range(1, 5):
        add_child(tracker, f"Site {number}", "french-plan", "30000")
    tracker.ok("remove", "site-2", "--yes")
    assert chips_by(tracker, "country") == {"FR": 120_000}
    assert chips_by(tracker, "vendor") == {"NVIDIA": 120_000}


def test_children_beyond_the_programme_count_in_full(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "50000", "--country", "FR", "--qualifier", "at-least")
    add_child(tracker, "Site A", "french-plan", "40000")
    add_child(tracker, "Site B", "french-plan", "30000")
    assert chips_by(tracker, "country") == {"FR": 70_000}


def test_a_cancelled_child_covers_nothing(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "100000", "--country", "FR")
    add_child(tracker, "Site A", "french-plan", "30000", "--status", "cancelled")
    assert chips_by(tracker, "country") == {"FR": 100_000}
    assert chips_by(tracker, "status") == {"announced": 100_000}
    assert chips_by(tracker, "status", "--status", "cancelled") == {"cancelled": 30_000}


def test_a_cancelled_programme_counts_under_its_status(tracker: Tracker) -> None:
    add_programme(tracker, "EU plan", "5000", "--scope", "eu", "--status", "cancelled")
    add_programme(tracker, "French plan", "100000", "--country", "FR", "--status", "cancelled")
    add_child(tracker, "Lyon", "french-plan", "30000", "--status", "cancelled")
    add_child(tracker, "Paris", "french-plan", "20000", "--status", "operational")
    # Paris goes ahead: its 20,000 were no part of what was called off.
    assert chips_by(tracker, "country", "--status", "cancelled") == {"FR": 80_000, "": 5000}
    assert chips_by(tracker, "country") == {"FR": 20_000}
    assert total(tracker, "--status", "cancelled", "--status", "operational", "--country", "FR") == "100,000"


def test_programmes_nest_and_each_level_counts_once(tracker: Tracker) -> None:
    add_programme(tracker, "Europe plan", "100000", "--scope", "europe")
    add_programme(tracker, "French plan", "60000", "--country", "FR", "--parent", "europe-plan")
    add_child(tracker, "Paris site", "french-plan", "10000")
    add_child(tracker, "Berlin site", "europe-plan", "5000", "--country", "DE")
    # Paris 10,000 + the French plan's uncovered 50,000 + Berlin 5,000 + Europe's uncovered 35,000.
    assert chips_by(tracker, "country", "--region", "europe") == {"": 35_000, "FR": 60_000, "DE": 5_000}
    assert total(tracker, "--region", "europe") == "100,000"


def test_a_child_covers_its_own_vendor_first(tracker: Tracker) -> None:
    add_programme(tracker, "Mixed plan", "100000", "--country", "FR")
    tracker.ok("update", "mixed-plan", "--lot", "2", "--chips", "50000", "--vendor", "AMD")
    add_child(tracker, "AMD site", "mixed-plan", "60000", "--vendor", "AMD")
    add_child(tracker, "Undisclosed site", "mixed-plan", "1000", "--vendor", "unknown")
    # The AMD site covers the plan's AMD lot (and goes beyond it), never its NVIDIA lot; chips
    # of an undisclosed vendor may be any.
    assert chips_by(tracker, "vendor") == {"AMD": 60_000, "NVIDIA": 99_000, "unknown": 1000}


@pytest.mark.parametrize(
    ("plan_lots", "parts", "by_model"),
    [
        # The B200 site can only be the plan's unnamed NVIDIA chips, the unnamed site its H100s.
        ((("NVIDIA", ""), ("NVIDIA", "H100")), (("NVIDIA", ""), ("NVIDIA", "B200")), {"": 50, "B200": 50}),
        # Undisclosed chips may be the AMD ones; the H100 site only the undisclosed ones.
        ((("unknown", ""), ("AMD", "MI300X")), (("NVIDIA", "H100"), ("unknown", "")), {"H100": 50, "": 50}),
    ],
)
def test_parts_cover_as_much_of_a_programme_as_they_can(
    tracker: Tracker,
    tmp_path: Path,
    plan_lots: tuple[tuple[str, str], ...],
    parts: tuple[tuple[str, str], ...],
    by_model: dict[str, int],
) -> None:
    rows = ["id,name,country,kind,parent,lot,vendor,model,chips,scope"]
    rows += [
        f"p,Plan,,programme,,{n},{vendor},{model},50,europe" for n, (vendor, model) in enumerate(plan_lots, 1)
    ]
    rows += [f"c{n},Site {n},FR,,p,1,{vendor},{model},50," for n, (vendor, model) in enumerate(parts, 1)]
    path = tmp_path / "plan.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    tracker.ok("import", str(path))
    assert total(tracker) == "100"
    assert chips_by(tracker, "model") == by_model


def test_filters_that_split_chips_add_up_and_evidence_filters_drop_parts(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "100000", "--country", "FR", "--confidence", "confirmed",
                  "--announced", "2025-01-10", "--sponsor", "sovereign")  # fmt: skip
    add_child(tracker, "Site", "french-plan", "30000", "--model", "B300", "--confidence", "reported",
              "--announced", "2025-06-11", "--sponsor", "private", "--status", "operational")  # fmt: skip
    # Which chips to show: rows split this way add up to the total.
    assert chips_by(tracker, "model", "--model", "B300") == {"B300": 30_000}
    assert chips_by(tracker, "status") == {"announced": 70_000, "operational": 30_000}
    assert chips_by(tracker, "sponsor", "--sponsor", "sovereign") == {"sovereign": 70_000}
    assert chips_by(tracker, "confidence") == {"confirmed": 70_000, "reported": 30_000}
    # Which announcements to believe: a part left out covers nothing, and the programme's
    # own figure stands.
    assert chips_by(tracker, "country", "--min-confidence", "confirmed") == {"FR": 100_000}
    assert chips_by(tracker, "country", "--announced-until", "2025-03-01") == {"FR": 100_000}
    assert chips_by(tracker, "country", "--as-of", "2025-03-01") == {"FR": 100_000}
    assert chips_by(tracker, "country", "--announced-since", "2025-03-01") == {"FR": 30_000}


def test_a_child_announced_later_covers_nothing_before_then(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "100000", "--country", "FR", "--announced", "2025-01-10")
    add_child(tracker, "Site A", "french-plan", "30000", "--announced", "2025-06-11", "--model", "B300")
    assert chips_by(tracker, "model", "--as-of", "2025-03-01") == {"": 100_000}
    assert chips_by(tracker, "model", "--as-of", "2025-07-01") == {"": 70_000, "B300": 30_000}


def test_a_scoped_programme_is_one_multi_country_row_in_its_region(tracker: Tracker) -> None:
    add_programme(tracker, "EU plan", "200000", "--scope", "eu", "--qualifier", "at-least")
    add_child(tracker, "Paris site", "eu-plan", "18000")
    tracker.ok("add", "London site", "--country", "GB", "--chips", "4000", "--vendor", "NVIDIA", *SOURCE)
    assert chips_by(tracker, "country", "--region", "europe") == {"": 182_000, "FR": 18_000, "GB": 4_000}
    assert chips_by(tracker, "country", "--region", "eu") == {"": 182_000, "FR": 18_000}
    # Not within any one country, nor within a region that lacks some of its countries.
    assert chips_by(tracker, "country", "--country", "FR") == {"FR": 18_000}
    assert chips_by(tracker, "country", "--region", "north-america") == {}
    assert chips_by(tracker, "region", "--region", "europe") == {"europe": 204_000}
    table = tracker.ok("summary", "--region", "europe", "--by", "country")
    assert "(multi-country)" in table.splitlines()[2]
    assert "≥ 182,000" in table.splitlines()[2]
    assert total_chips(table) == ["≥", "204,000"]
    records = json.loads(tracker.ok("summary", "--by", "country", "--format", "json"))
    assert records[0] == {
        "country": None, "entries": 1, "chips": 182_000, "qualifier": "at-least", "h100e": None,
        "h100e_chips": 0, "power_mw": None, "power_mw_estimated": None, "power_chips": 0,
        "h100e_basis": "bf16", "power_factor": float(POWER_FACTOR),
    }  # fmt: skip


def test_a_programme_counts_under_a_region_only_when_its_whole_scope_is_within(tracker: Tracker) -> None:
    add_programme(tracker, "Europe plan", "1000", "--scope", "europe")
    assert chips_by(tracker, "country", "--region", "europe") == {"": 1000}
    assert chips_by(tracker, "country", "--region", "eu") == {}
    assert chips_by(tracker, "region") == {"europe": 1000}


def test_quantity_qualifiers_show_in_tables_and_csv(tracker: Tracker) -> None:
    tracker.ok("add", "Roughly", "--country", "FR", "--chips", "1000", "--vendor", "AMD",
               "--qualifier", "approx", *SOURCE)  # fmt: skip
    tracker.ok("add", "At most", "--country", "DE", "--chips", "500", "--vendor", "AMD",
               "--qualifier", "Up To", *SOURCE)  # fmt: skip
    tracker.ok("add", "Exactly", "--country", "DE", "--chips", "700", "--vendor", "AMD", *SOURCE)
    rows = summary(tracker, "--by", "country")
    assert [(row["country"], row["chips"], row["qualifier"]) for row in rows] == [
        ("DE", "1200", "up-to"),
        ("FR", "1000", "approx"),
    ]
    assert total(tracker) == "2,200"
    # A bound stays a bound when an approximate count is added to it.
    assert total_chips(tracker.ok("summary")) == ["≤", "2,200"]
    exported = list(csv.DictReader(io.StringIO(tracker.export())))
    assert [(row["id"], row["qualifier"]) for row in exported] == [
        ("at-most", "up-to"), ("exactly", "exact"), ("roughly", "approx"),
    ]  # fmt: skip


def test_a_programmes_bound_holds_whatever_its_parts_say(tracker: Tracker) -> None:
    add_programme(tracker, "EU plan", "100000", "--scope", "eu", "--qualifier", "at-least")
    add_child(tracker, "Paris", "eu-plan", "28000", "--qualifier", "approx")
    assert total(tracker, "--region", "eu") == "100,000"
    assert total_chips(tracker.ok("summary", "--region", "eu")) == ["≥", "100,000"]
    add_programme(tracker, "Small plan", "10000", "--country", "DE", "--qualifier", "at-least")
    add_child(tracker, "Berlin", "small-plan", "15000", "--country", "DE")
    # Its parts go beyond the plan, which said "at least": at least their 15,000.
    assert total_chips(tracker.ok("summary", "--country", "DE")) == ["≥", "15,000"]
    assert "Counted in totals: ≥ 15,000" in tracker.ok("show", "small-plan")


def test_a_parts_qualifier_carries_into_what_its_programme_counts(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "100000", "--country", "FR")
    add_child(tracker, "Paris", "french-plan", "30000", "--qualifier", "approx")
    add_child(tracker, "Lyon", "french-plan", "10000")
    shown = tracker.ok("show", "french-plan")
    # About 30,000 and 10,000 cover about 40,000 of the plan: the rest is about 60,000.
    assert "Counted in totals: ~ 100,000 (its parts ~ 40,000, the rest of the plan ~ 60,000)" in shown


def test_the_export_keeps_scope_and_qualifier_and_reimports_byte_for_byte(
    tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    add_programme(tracker, "EU plan", "500000", "--scope", "eu", "--qualifier", "at-least")
    add_child(tracker, "Paris site", "eu-plan", "18000", "--qualifier", "approx")
    exported = tracker.export()
    plan = export_cells(exported)[0]
    assert (plan["id"], plan.get("country"), plan["kind"], plan["scope"], plan["qualifier"]) == (
        "eu-plan",
        None,
        "programme",
        "eu",
        "at-least",
    )
    path = tmp_path / "export.csv"
    path.write_text(exported, encoding="utf-8")
    other = Tracker(empty_db_url)
    other.ok("init", "--no-seed")
    other.ok("import", str(path))
    assert other.export() == exported


def test_a_file_without_the_new_columns_keeps_what_is_stored(tracker: Tracker, tmp_path: Path) -> None:
    add_programme(tracker, "EU plan", "500000", "--scope", "eu", "--qualifier", "at-least")
    path = tmp_path / "chips.csv"
    path.write_text("id,name,chips,vendor\neu-plan,EU plan,600000,NVIDIA\n", encoding="utf-8")
    path.write_text(
        "id,name,country,scope,chips,vendor\neu-plan,EU plan,,eu,600000,NVIDIA\n", encoding="utf-8"
    )
    tracker.ok("import", str(path), "--on-conflict", "update")
    row = next(csv.DictReader(io.StringIO(tracker.export())))
    assert (row["chips"], row["qualifier"], row["scope"]) == ("600000", "at-least", "eu")


def test_skip_invalid_leaves_out_rows_whose_parent_is_missing(
    seeded_tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "fr.csv"
    seeded_tracker.ok("export", "--country", "FR", "--country", "GB", "--output", str(path))
    other = Tracker(empty_db_url)
    other.ok("init", "--no-seed")
    refused = other("import", str(path))
    assert (refused.exit_code, refused.stderr.splitlines()) == (2, [
        f"{path}:3: parent: no entry has the id 'europe-ai-factories-plan', stored or in a valid row of "
        "the file",
        f"Error: {path}: 1 problem; nothing was imported; --skip-invalid imports the other rows",
    ])  # fmt: skip
    result = other("import", str(path), "--skip-invalid")
    assert (result.exit_code, result.stdout) == (0, "2 added, 0 updated, 0 unchanged\n")
    assert (
        result.stderr.splitlines()[-1]
        == "Left out 1 entry (--skip-invalid); their problems by column: 1 parent."
    )
    assert [row["id"] for row in csv.DictReader(io.StringIO(other.export()))] == [
        "mistral-ai-bruyeres-le-chatel",  # a site of its own, in no programme
        "nebius-uk",
    ]


def test_skip_invalid_leaves_out_the_parts_of_a_programme_it_leaves_out(
    tracker: Tracker, tmp_path: Path
) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(
        "id,name,country,kind,scope,parent,chips,vendor\n"
        "site,Site,FR,,,plan,10,AMD\n"
        "plan,Plan,FR,programme,eu,,100,AMD\n"
        "other,Other,DE,,,,5,AMD\n",
        encoding="utf-8",
    )
    result = tracker("import", str(path), "--skip-invalid")
    assert (result.exit_code, result.stdout) == (0, "1 added, 0 updated, 0 unchanged\n")
    assert result.stderr.splitlines()[:2] == [
        f"{path}:2: parent: 'plan' has a problem of its own (line 3)",
        f"{path}:3: scope: a programme has a country or a scope, not both",
    ]


def test_an_import_cannot_make_a_programme_with_parts_another_kind(tracker: Tracker, tmp_path: Path) -> None:
    add_programme(tracker, "Plan", "100", "--country", "FR")
    add_child(tracker, "Site", "plan", "30")
    before = database_contents(tracker)
    path = tmp_path / "demote.csv"
    path.write_text("id,name,country,kind\nplan,Plan,FR,factory\n", encoding="utf-8")
    for extra in ((), ("--skip-invalid",)):
        result = tracker("import", str(path), "--on-conflict", "update", *extra)
        assert (result.exit_code, result.stderr.splitlines()) == (2, [
            f"{path}:2: kind: plan has parts (site); only a programme has parts",
            f"Error: {path}: 1 problem; nothing was imported",
        ])  # fmt: skip
    assert database_contents(tracker) == before


def test_skip_invalid_keeps_a_stored_programme_whose_row_it_leaves_out(
    tracker: Tracker, tmp_path: Path
) -> None:
    add_programme(tracker, "P", "100", "--scope", "europe")
    add_child(tracker, "C", "p", "30")
    path = tmp_path / "rows.csv"
    path.write_text("id,name,country,operator,scope\np,P,FR,,europe\nc,C,FR,NewOp,\n", encoding="utf-8")
    result = tracker("import", str(path), "--skip-invalid", "--on-conflict", "update")
    assert (result.exit_code, result.stdout) == (0, "0 added, 1 updated, 0 unchanged\n")
    assert result.stderr.splitlines()[0] == f"{path}:2: scope: a programme has a country or a scope, not both"
    assert "NewOp" in tracker.ok("show", "c")


def test_import_refuses_bad_scopes_and_qualifiers(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,name,country,kind,scope,chips,vendor,qualifier\n"
        "a,A,,programme,,10,AMD,exact\n"
        "b,B,,programme,moon,10,AMD,exact\n"
        "c,C,,factory,eu,10,AMD,exact\n"
        "d,D,FR,programme,eu,10,AMD,exact\n"
        "e,E,FR,,,10,AMD,roughly\n"
        "f,F,FR,,,,,approx\n",
        encoding="utf-8",
    )
    before = database_contents(tracker)
    result = tracker("import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:-1] == [
        f"{path}:2: country: is missing; give a country code or name, such as FR (or a region "
        "--scope for a programme)",
        f"{path}:3: scope: unknown region 'moon'; known regions: africa, asia, eu, europe, gcc, "
        "latin-america, middle-east, north-america, oceania",
        f"{path}:4: scope: is for programmes (kind programme), which may span several countries",
        f"{path}:5: scope: a programme has a country or a scope, not both",
        f"{path}:6: qualifier: unknown qualifier 'roughly'; use one of: exact, approx, at-least, up-to",
        f"{path}:7: qualifier: is given without chips; give chips and vendor",
    ]
    assert database_contents(tracker) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kind", "programme", "--scope", "moon"),
         "Error: --scope: unknown region 'moon'; known regions: africa, asia, eu, europe, gcc, "
         "latin-america, middle-east, north-america, oceania"),
        (("--scope", "eu"),
         "Error: --scope: is for programmes (kind programme), which may span several countries"),
        (("--kind", "programme", "--scope", "eu", "--country", "FR"),
         "Error: --scope: a programme has a country or a scope, not both"),
        (("--country", "FR", "--parent", "nowhere"),
         "Error: --parent: no entry has the id 'nowhere'"),
        (("--country", "FR", "--chips", "10", "--vendor", "AMD", "--qualifier", "more-than"),
         "Error: --qualifier: unknown qualifier 'more-than'; use one of: exact, approx, at-least, up-to"),
        (("--country", "FR", "--qualifier", "approx"),
         "Error: --qualifier: is given without chips; give chips and vendor"),
    ],
)  # fmt: skip
def test_add_refuses_bad_programme_input(tracker: Tracker, args: tuple[str, ...], message: str) -> None:
    before = database_contents(tracker)
    result = tracker("add", "Plan", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")
    assert database_contents(tracker) == before


def test_update_attaches_and_detaches_a_child_and_refuses_cycles(tracker: Tracker) -> None:
    add_programme(tracker, "French plan", "100000", "--country", "FR")
    add_programme(tracker, "Lyon plan", "50000", "--country", "FR", "--parent", "french-plan")
    tracker.ok("add", "Lyon site", "--country", "FR", "--chips", "20000", "--vendor", "NVIDIA", *SOURCE)
    assert chips_by(tracker, "country") == {"FR": 120_000}
    tracker.ok("update", "lyon-site", "--parent", "lyon-plan", "--source", "https://example.org/lyon")
    assert chips_by(tracker, "country") == {"FR": 100_000}
    before = database_contents(tracker)
    for entry, parent, message in (
        ("french-plan", "lyon-plan", "Error: --parent: 'lyon-plan' makes 'french-plan' a part of itself\n"),
        (
            "french-plan",
            "lyon-site",
            "Error: --parent: 'lyon-site' is not a programme (its kind is not given); a parent has kind "
            "programme\n",
        ),
        (
            "french-plan",
            "french-plan",
            "Error: --parent: 'french-plan' makes 'french-plan' a part of itself\n",
        ),
        ("lyon-site", "nowhere", "Error: --parent: no entry has the id 'nowhere'\n"),
    ):
        result = tracker("update", entry, "--parent", parent)
        assert (result.exit_code, result.stderr) == (2, message)
    assert database_contents(tracker) == before
    tracker.ok("update", "lyon-site", "--parent", "")
    assert chips_by(tracker, "country") == {"FR": 120_000}
    changes = list(
        csv.DictReader(io.StringIO(tracker.ok("changes", "--since", "2020-01-01", "--format", "csv")))
    )
    assert [(row["entry"], row["old"], row["new"]) for row in changes if row["change"] == "parent"] == [
        ("lyon-site", "", "lyon-plan"),
        ("lyon-site", "lyon-plan", ""),
    ]


def test_update_moves_a_programme_between_country_and_scope(tracker: Tracker) -> None:
    add_programme(tracker, "Plan", "1000", "--country", "FR", "--qualifier", "approx")
    tracker.ok("update", "plan", "--scope", "eu", "--country", "")
    assert chips_by(tracker, "country") == {"": 1000}
    tracker.ok("update", "plan", "--qualifier", "at-least")
    assert summary(tracker)[0]["qualifier"] == "at-least"
    result = tracker("update", "plan", "--country", "DE")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --country: a programme has a country or a scope, not both\n",
    )
    result = tracker("update", "plan", "--scope", "")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --scope: cannot be emptied without a --country; every entry has a country or a scope\n",
    )


def test_check_finds_parts_outside_their_programme_and_allows_exceeding_a_lower_bound(
    tracker: Tracker,
) -> None:
    add_programme(tracker, "EU plan", "1000", "--scope", "eu", "--qualifier", "at-least")
    add_child(tracker, "Paris site", "eu-plan", "5000")  # more than "at least 1,000": no problem
    add_child(tracker, "London site", "eu-plan", "10", "--country", "GB")
    add_programme(tracker, "French plan", "100", "--country", "FR")
    add_child(tracker, "Lyon site", "french-plan", "500")
    add_child(tracker, "Rome site", "french-plan", "5", "--country", "IT")
    result = tracker("check", "--format", "csv")
    assert result.exit_code == 1
    assert list(csv.reader(io.StringIO(result.stdout)))[1:] == [
        ["london-site", "is in GB, outside the scope eu of its programme eu-plan"],
        ["lyon-site", "has 500 chips, more than the 100 of its programme french-plan"],
        ["rome-site", "is in IT, outside FR, the country of its programme french-plan"],
    ]


NOT_A_PROGRAMME = (
    "Error: --parent: 'factory' is not a programme (its kind is not given); a parent has kind programme\n"
)


def test_a_parent_is_a_programme(tracker: Tracker, tmp_path: Path) -> None:
    tracker.ok("add", "Factory", "--country", "FR", *SOURCE)
    add_programme(tracker, "Plan", "100", "--country", "FR")
    add_child(tracker, "Site", "plan", "10")
    before = database_contents(tracker)
    for command, message in (
        (("add", "Other", "--country", "FR", "--parent", "factory"),
         NOT_A_PROGRAMME),
        (("update", "site", "--parent", "factory"),
         NOT_A_PROGRAMME),
        (("update", "plan", "--kind", "factory"),
         "Error: --kind: plan has parts (site); only a programme has parts\n"),
        (("update", "factory", "--scope", "eu"),
         "Error: --scope: is for programmes (kind programme), which may span several countries\n"),
        (("update", "factory", "--qualifier", "approx"),
         "Error: --qualifier: is given without chips; give chips and vendor\n"),
    ):  # fmt: skip
        result = tracker(*command)
        assert (result.exit_code, result.stderr) == (2, message)
    assert database_contents(tracker) == before


def test_add_names_every_bad_field_at_once(tracker: Tracker) -> None:
    result = tracker("add", "Plan", "--country", "FR", "--parent", "nope", "--chips", "10",
                     "--qualifier", "whatever", "--scope", "asia")  # fmt: skip
    assert (result.exit_code, result.stderr) == (2, (
        "Error: --vendor: is needed with chips; use `unknown` when it was not disclosed; --qualifier: "
        "unknown qualifier 'whatever'; use one of: exact, approx, at-least, up-to; --scope: is for "
        "programmes (kind programme), which may span several countries; --parent: no entry has the id "
        "'nope'\n"
    ))  # fmt: skip


def test_duplicate_warnings_know_programmes(tracker: Tracker) -> None:
    add_programme(tracker, "Asia plan", "100", "--scope", "asia", "--operator", "NVIDIA")
    result = tracker("add", "EU plan", "--kind", "programme", "--scope", "eu", "--operator", "nvidia",
                     "--chips", "200", "--vendor", "NVIDIA", *SOURCE)  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, "")
    result = tracker("add", "Paris site", "--country", "FR", "--parent", "eu-plan", "--operator", "NVIDIA",
                     "--chips", "200", "--vendor", "NVIDIA", *SOURCE)  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, "")  # a part counts once within its programme
    result = tracker("add", "Paris site again", "--country", "FR", "--parent", "eu-plan", "--chips", "200",
                     "--vendor", "NVIDIA", *SOURCE)  # fmt: skip
    assert "may be the same announcement as paris-site" in result.stderr  # siblings may be one site
    result = tracker("add", "London site", "--country", "GB", "--parent", "eu-plan", "--chips", "7",
                     "--vendor", "NVIDIA", *SOURCE)  # fmt: skip
    assert result.stderr == (
        "Warning: london-site is in GB, outside the scope eu of its programme eu-plan; its chips count "
        "there, and its programme adds less\n"
    )


def test_changes_give_counts_with_their_qualifier(seeded_tracker: Tracker) -> None:
    out = seeded_tracker.ok("changes", "--since", "2020-01-01", "--format", "csv")
    rows = {row["entry"]: row["new"] for row in csv.DictReader(io.StringIO(out)) if row["change"] == "added"}
    assert rows["europe-ai-factories-plan"].endswith(", europe, at least 500,000 chips now")
    assert rows["mistral-ai-compute-fr"].endswith(
        ", FR, 18,000 chips now, part of europe-ai-factories-plan (counted once within it)"
    )


def test_show_gives_a_programmes_children_and_what_it_counts(tracker: Tracker) -> None:
    add_programme(tracker, "EU plan", "500000", "--scope", "eu", "--qualifier", "at-least")
    add_child(tracker, "Paris site", "eu-plan", "18000")
    shown = tracker.ok("show", "eu-plan")
    assert ["scope", "eu (multi-country)"] in [line.split(None, 1) for line in shown.splitlines()]
    assert "≥ 500,000" in shown.split("Chip lots")[1]
    assert "paris-site" in shown.split("Parts")[1]
    assert "Counted in totals: ≥ 500,000 (its parts 18,000, the rest of the plan ≥ 482,000)" in shown
    child = json.loads(tracker.ok("show", "paris-site", "--format", "json"))
    assert child["parent"] == "eu-plan"
    listed = tracker("list")
    assert "(multi-country)" in listed.stdout
    assert listed.stderr == (
        "Note: programmes and their parts are each listed with their own count; `tracker summary` counts "
        "every chip once.\n"
    )
    rows = list(csv.DictReader(io.StringIO(tracker.ok("list", "--format", "csv"))))
    assert [(row["id"], row["kind"], row["parent"], row["scope"], row["qualifier"]) for row in rows] == [
        ("eu-plan", "programme", "", "eu", "at-least"),
        ("paris-site", "", "eu-plan", "", "exact"),
    ]


def test_the_seeds_europe_wide_plan_counts_without_adding_mistral(seeded_tracker: Tracker) -> None:
    rows = summary(seeded_tracker, "--region", "europe", "--by", "country")
    assert [(row["country"], int(row["chips"]), row["qualifier"]) for row in rows] == [
        ("", 472_000, "at-least"),
        ("FR", 18_000 + 13_800, "exact"),  # Mistral AI's site in the plan, and its own since
        ("DE", 10_000, "exact"),
        ("GB", 4_000, "exact"),
    ]
    assert total(seeded_tracker, "--region", "europe") == f"{500_000 + 13_800 + 4_000:,}"
    plan = seeded_tracker.ok("show", "europe-ai-factories-plan")
    assert "20 AI factories" in plan
    assert "mistral-ai-compute-fr" in plan.split("Parts")[1]


def test_init_brings_the_plan_to_a_database_seeded_before_it(seeded_db_url: str) -> None:
    from tests.test_schema import run_sql

    # The seeds as an earlier release loaded them: no plan, no parts, the plan's loading unrecorded.
    for statement in (
        "UPDATE entry SET parent_id = NULL",
        "DELETE FROM entry WHERE id = 'europe-ai-factories-plan'",
        "DELETE FROM seed_load WHERE name = 'entries-europe-plan'",
    ):
        run_sql(seeded_db_url, statement)
    tracker = Tracker(seeded_db_url)
    tracker.ok(
        "add", "Own plan", "--kind", "programme", "--country", "DE", "--chips", "20000", "--vendor", "NVIDIA"
    )
    tracker.ok("update", "nvidia-industrial-ai-factory-de", "--parent", "own-plan")
    result = tracker("init")
    assert result.exit_code == 0
    assert result.stderr.endswith("0 reference rows and 1 seed entry added\n")
    # 500,000 + 4,000 + the own plan's 20,000 + Mistral AI's site outside the plan, 13,800
    assert total(tracker, "--region", "europe") == f"{500_000 + 4_000 + 20_000 + 13_800:,}"
    fields = tracker.ok("show", "mistral-ai-compute-fr").split("Chip lots")[0]
    assert fields.count("europe-ai-factories-plan") == 1
    assert "own-plan" in tracker.ok("show", "nvidia-industrial-ai-factory-de")  # the user's choice stands
    changes = csv.DictReader(io.StringIO(tracker.ok("changes", "--since", "2020-01-01", "--format", "csv")))
    parents = sorted(
        (row["entry"], row["new"], row["source"]) for row in changes if row["change"] == "parent"
    )
    assert parents == [
        (
            "mistral-ai-compute-fr",
            "europe-ai-factories-plan",
            "NVIDIA GTC Paris keynote (at VivaTech, Paris), 2025-06-11",
        ),
        ("nvidia-industrial-ai-factory-de", "own-plan", ""),
    ]
    assert tracker("init").stderr.endswith("0 reference rows and 0 seed entries added\n")


@pytest.mark.parametrize("covered_first", [True, False])
def test_a_covered_programme_is_one_of_its_rows_entries_in_whatever_order_it_is_read(
    tracker: Tracker, covered_first: bool
) -> None:
    # One programme's lot is covered in full by its part, the other's not at all; both are
    # entries of the multi-country row that the second makes. Their ids set the order in
    # which the database returns them: the count must not depend on it.
    covered, open_ = ("a-plan", "b-plan") if covered_first else ("b-plan", "a-plan")
    add_programme(tracker, "Covered plan", "100", "--scope", "eu", "--id", covered)
    add_child(tracker, "Covering site", covered, "100")
    add_programme(tracker, "Open plan", "50", "--scope", "eu", "--id", open_)
    rows = {row["country"]: row for row in summary(tracker, "--by", "country")}
    assert (rows[""]["chips"], rows[""]["entries"]) == ("50", "2")
    assert (rows["FR"]["chips"], rows["FR"]["entries"]) == ("100", "1")
