"""tracker import --from epoch: Epoch AI's GPU clusters CSV (CC BY 4.0), row by row."""

from __future__ import annotations

import collections
import csv
import io
import os
from pathlib import Path

import pycountry

from tests.conftest import Tracker
from tests.test_cli import database_contents
from tracker.service.formats.epoch import ATTRIBUTION

EXCERPT = Path(__file__).parent / "data" / "epoch_gpu_clusters_excerpt.csv"
# The reference datasets sit beside the checkout (../shared/datasets), in CI as here.
DATASETS = Path(os.environ.get("TRACKER_DATASETS", Path(__file__).parents[2] / "shared" / "datasets"))
EPOCH_FILE = DATASETS / "epoch_sr3k" / "gpu_clusters.csv"


def exported(tracker: Tracker) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for row in csv.DictReader(io.StringIO(tracker.export())):
        rows[row["id"]].append(row)
    return rows


def test_each_kind_of_row_is_read_as_the_analyst_expects(tracker: Tracker) -> None:
    result = tracker("import", "--from", "epoch", "--skip-invalid", str(EXCERPT))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "9 added, 0 updated, 0 unchanged\n"
    rows = exported(tracker)
    lots = {
        entry_id: [(r["vendor"], r["model"], r["chips"]) for r in entry_rows]
        for entry_id, entry_rows in rows.items()
    }
    assert lots == {
        # Chips of an undisclosed vendor are kept, under the vendor `unknown`, never as zero.
        "anonymized-chinese-system-10fe8740": [("unknown", "", "10000"), ("unknown", "", "10000")],
        "anonymized-chinese-system-60d0e2f6": [("unknown", "", "8000")],
        # Epoch's supplier is "Unknown", but it names the chip.
        "aramco-groq-inference-cluster": [("Groq", "LPU v1", "19725")],
        "agh-cyfronet-helios": [("NVIDIA", "GH200", "440"), ("NVIDIA", "H100", "24")],
        "meta-prometheus-new-albany": [("NVIDIA", "GB200", "300000"), ("NVIDIA", "GB300", "200000")],
        "oak-ridge-nl-summit": [("NVIDIA", "V100", "27648")],
        "tesla-cortex-phase-1": [("NVIDIA", "H100", "50000")],
        # Phases 1 and 2 are superseded by phase 3, which includes their chips.
        "xai-colossus-memphis-phase-3": [("NVIDIA", "H100", "200000"), ("NVIDIA", "GB200", "30000")],
        # Phase 2 builds upon phase 1 ("the first 110k will be GB200s"): only phase 2 is counted.
        "xai-colossus-2-memphis-phase-2": [("NVIDIA", "GB200", "330000"), ("NVIDIA", "GB300", "220000")],
    }
    first = {entry_id: entry_rows[0] for entry_id, entry_rows in rows.items()}
    # Never more precise than Epoch knows: its note says how precise the date is.
    assert {entry_id: row["online"] for entry_id, row in first.items()} == {
        "anonymized-chinese-system-10fe8740": "2024-11",  # 11/15/2024 without a note: Epoch's mid-month
        "anonymized-chinese-system-60d0e2f6": "2024-08",
        "aramco-groq-inference-cluster": "2025-01",  # note "2025-01"
        "agh-cyfronet-helios": "2024-06-01",  # note repeats the day
        "meta-prometheus-new-albany": "2026-H2",  # note "Planned H2 2026"
        "oak-ridge-nl-summit": "2018-06-08",
        "tesla-cortex-phase-1": "2024-Q4",  # note "Q4 2024"
        "xai-colossus-memphis-phase-3": "2025-07-22",
        "xai-colossus-2-memphis-phase-2": "2026",  # note "Planned 2026"
    }
    helios = first["agh-cyfronet-helios"]
    assert (helios["country"], helios["status"], helios["confidence"], helios["sponsor"]) == (
        "PL", "operational", "confirmed", "sovereign",
    )  # fmt: skip
    assert helios["power_mw"] == "0.53"  # Epoch's 0.5297 MW, to the kilowatt
    assert first["oak-ridge-nl-summit"]["status"] == "decommissioned"
    assert first["meta-prometheus-new-albany"]["confidence"] == "reported"  # Epoch: Likely
    assert first["anonymized-chinese-system-10fe8740"]["sponsor"] == "private"
    assert all(ATTRIBUTION in row["sources"].split(" | ") for row in first.values())
    assert any(
        source.startswith("https://") for source in first["tesla-cortex-phase-1"]["sources"].split(" | ")
    )


def test_rows_that_cannot_be_counted_are_listed_with_their_reason(tracker: Tracker) -> None:
    result = tracker("import", "--from", "epoch", "--skip-invalid", str(EXCERPT))
    reasons = [line.split(": ", 2)[:2] for line in result.stderr.splitlines()[:-1]]
    assert reasons == [
        [f"{EXCERPT}:2", "Country"],
        [f"{EXCERPT}:2", "Chip quantity (primary)"],
        [f"{EXCERPT}:8", "Name"],
        [f"{EXCERPT}:15", "Superseded by"],
        [f"{EXCERPT}:18", "Country"],
        [f"{EXCERPT}:21", "Superseded by"],
        [f"{EXCERPT}:24", "Chip quantity (primary)"],
        [f"{EXCERPT}:27", "Possible Duplicate"],
        [f"{EXCERPT}:27", "Country"],
    ]
    assert result.stderr.splitlines()[2] == (
        f"{EXCERPT}:8: Name: an earlier state of 'xAI Colossus 2 Memphis Phase 2': Epoch records a cluster "
        "upgraded, expanded or replaced as a row of its own (linked by Superseded by and Builds Upon); left "
        "out so that the cluster is counted once"
    )
    assert result.stderr.splitlines()[-1] == (
        "Left out 7 entries (--skip-invalid); their problems by column: 3 Country, 2 Chip quantity "
        "(primary), "
        "2 Superseded by, 1 Name, 1 Possible Duplicate."
    )


def test_without_skip_invalid_nothing_is_imported(tracker: Tracker) -> None:
    before = database_contents(tracker)
    result = tracker("import", "--from", "epoch", str(EXCERPT))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: {EXCERPT}: 9 problems; nothing was imported; --skip-invalid imports the other rows"
    )
    assert database_contents(tracker) == before


def test_importing_the_same_file_again_changes_nothing(tracker: Tracker) -> None:
    tracker.ok("import", "--from", "epoch", "--skip-invalid", str(EXCERPT))
    before = database_contents(tracker)
    assert tracker.ok("import", "--from", "epoch", "--skip-invalid", str(EXCERPT)) == (
        "0 added, 0 updated, 9 unchanged\n"
    )
    assert database_contents(tracker) == before


def test_a_file_that_is_not_epochs_is_refused(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("name,country\nX,FR\n", encoding="utf-8")
    result = tracker("import", "--from", "epoch", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"{path}:1: Name: is missing; is this Epoch AI's GPU clusters CSV (gpu_clusters.csv)?"
    )


# Epoch's country names that are not ISO 3166 names, spelled out here independently.
EPOCH_COUNTRIES = {"Korea (Republic of)": "KR", "Philippines (the)": "PH", "Russia": "RU", "Taiwan": "TW"}


def independent_totals() -> tuple[dict[str, int], int]:
    """Planned chips by country straight from Epoch's CSV, and how many rows are imported.

    A row can be imported when it has a country and chips (its primary and secondary
    quantities, or Epoch's total where that counts more) and Epoch does not flag it as a
    possible duplicate. It is imported unless a later state of the same cluster
    (a row it is "Superseded by", or one that "Builds Upon" it, and so on) can be: that
    row includes its chips. Decommissioned rows are imported but not in the planned total.
    """
    with EPOCH_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_name = {row["Name"]: row for row in rows}

    def chips(row: dict[str, str]) -> int:
        """Primary and secondary chips, or Epoch's total where it counts more."""
        quantities = [row["Chip quantity (primary)"], row["Chip quantity (secondary)"]]
        named = sum(int(quantity) for quantity in quantities if quantity)
        return max(named, int(row["Total number of AI chips"] or 0))

    def importable(row: dict[str, str]) -> bool:
        return bool(row["Country"]) and chips(row) > 0 and row["Possible Duplicate"] != "TRUE"

    def later_states(name: str) -> list[str]:
        found = [by_name[name]["Superseded by"]] if by_name[name]["Superseded by"] in by_name else []
        for row in rows:
            builds_upon = row["Builds Upon"]
            parts = [builds_upon] if builds_upon in by_name else [p.strip() for p in builds_upon.split(",")]
            if name in parts:
                found.append(row["Name"])
        return found

    def has_imported_later_state(name: str, seen: frozenset[str]) -> bool:
        return any(
            importable(by_name[later]) or has_imported_later_state(later, seen | {later})
            for later in later_states(name)
            if later not in seen
        )

    totals: collections.Counter[str] = collections.Counter()
    imported = 0
    for row in rows:
        if not importable(row) or has_imported_later_state(row["Name"], frozenset({row["Name"]})):
            continue
        imported += 1
        if row["Status"] != "Decommissioned":
            country = (
                EPOCH_COUNTRIES.get(row["Country"]) or pycountry.countries.lookup(row["Country"]).alpha_2
            )
            totals[country] += chips(row)
    return dict(totals), imported


def test_the_whole_epoch_file_matches_totals_computed_from_the_raw_csv(tracker: Tracker) -> None:
    assert EPOCH_FILE.is_file(), (
        f"{EPOCH_FILE} is missing: put shared/ beside the checkout, or set TRACKER_DATASETS"
    )
    result = tracker("import", "--from", "epoch", "--skip-invalid", str(EPOCH_FILE))
    assert result.exit_code == 0, result.stderr
    expected, imported = independent_totals()
    assert result.stdout == f"{imported} added, 0 updated, 0 unchanged\n"
    # Every chip name Epoch uses is in the catalogue: no row is left out for its chip.
    assert "Chip type" not in result.stderr
    summary = tracker.ok("summary", "--by", "country", "--format", "csv")
    got = {row["country"]: int(row["chips"]) for row in csv.DictReader(io.StringIO(summary))}
    assert got == expected
    assert sum(got.values()) == sum(expected.values()) > 5_000_000


def test_a_later_release_or_the_whole_file_after_an_excerpt_counts_each_cluster_once(
    tracker: Tracker, db_url: str
) -> None:
    tracker.ok("import", "--from", "epoch", "--skip-invalid", str(EXCERPT))
    result = tracker("import", "--from", "epoch", "--skip-invalid", str(EPOCH_FILE))
    # The excerpt's rows keep their ids in the whole file; only Tesla Cortex phase 1, which
    # the whole file shows as an earlier state of phase 3, is now left out.
    assert "8 unchanged" in result.stdout
    assert result.stderr.splitlines()[-1] == (
        "Warning: 1 entry of an earlier Epoch import: tesla-cortex-phase-1: not in this file, or now left "
        "out; beside the new ones they may count chips twice: --prune removes them"
    )
    pruned = tracker("import", "--from", "epoch", "--skip-invalid", "--prune", str(EPOCH_FILE))
    assert pruned.stdout.endswith(", 1 removed\n")
    assert pruned.stderr.splitlines()[-1] == (
        "1 entry of an earlier Epoch import removed (--prune): tesla-cortex-phase-1"
    )
    expected, _ = independent_totals()
    summary = tracker.ok("summary", "--by", "country", "--format", "csv")
    assert {row["country"]: int(row["chips"]) for row in csv.DictReader(io.StringIO(summary))} == expected


def test_an_update_from_epoch_keeps_what_the_analyst_added(tracker: Tracker, tmp_path: Path) -> None:
    tracker.ok("import", "--from", "epoch", "--skip-invalid", str(EXCERPT))
    rows = tracker.export().replace(
        "oak-ridge-nl-summit,Oak Ridge NL Summit,US Department of Energy,US,,,",
        "oak-ridge-nl-summit,Oak Ridge NL Summit,US Department of Energy,US,Oak Ridge,supercomputer,",
    )
    edited = tmp_path / "edited.csv"
    edited.write_text(rows, encoding="utf-8")
    tracker.ok("import", str(edited), "--on-conflict", "update")
    analyst = tracker.export()
    assert ",US,Oak Ridge,supercomputer," in analyst
    changed = EXCERPT.read_text(encoding="utf-8").replace(",27648,", ",27000,")
    release = tmp_path / "release.csv"
    release.write_text(changed, encoding="utf-8")
    assert tracker.ok(
        "import", "--from", "epoch", "--skip-invalid", "--on-conflict", "update", str(release)
    ) == ("0 added, 1 updated, 8 unchanged\n")
    assert tracker.export() == analyst.replace(",V100,27648,", ",V100,27000,")


def test_prune_goes_with_epoch_only(tracker: Tracker) -> None:
    result = tracker("import", "--prune", str(EXCERPT))
    assert (result.exit_code, result.stderr.splitlines()[0]) == (
        2,
        "Error: --prune goes with --from epoch. See 'tracker import --help'.",
    )


def test_a_row_out_of_line_with_the_header_is_left_out(tracker: Tracker, tmp_path: Path) -> None:
    lines = EXCERPT.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    short = tmp_path / "short.csv"
    short.write_text(lines[0] + "\n" + "Cut short,Existing,Confirmed\n", encoding="utf-8")
    result = tracker("import", "--from", "epoch", str(short))
    assert result.stderr.splitlines()[0] == f"{short}:2: row: has 3 cells; the header has {len(header)}"
