"""Chip counts announced in superchips, servers or racks: accelerators stored, the count as
announced kept and shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Tracker, export_cells, export_line
from tests.test_cli import database_contents


def lot_of(tracker: Tracker, entry_id: str) -> dict[str, object]:
    lots = json.loads(tracker.ok("show", entry_id, "--format", "json"))["lots"]
    assert len(lots) == 1
    return dict(lots[0])


@pytest.mark.parametrize(
    ("model", "unit", "count", "accelerators"),
    [
        ("GB200", "rack", "18", 1296),  # NVL72
        ("GB300", "superchip", "9000", 18000),
        ("gb 200", "Superchip", "1", 2),
        ("Grace Blackwell", "rack", "2", 144),
        ("GH200", "superchip", "100", 100),  # one GPU a Grace Hopper superchip
        ("H100", "server", "125", 1000),  # DGX/HGX
        ("B300", "gpu", "4000", 4000),
    ],
)
def test_a_count_of_units_stores_accelerators_and_keeps_what_was_announced(
    tracker: Tracker, model: str, unit: str, count: str, accelerators: int
) -> None:
    tracker.ok(
        "add", "Site", "--country", "FR", "--chips", count, "--unit", unit,
        "--vendor", "NVIDIA", "--model", model, "--source", "https://example.org/a",
    )  # fmt: skip
    lot = lot_of(tracker, "site")
    assert lot["chips"] == accelerators
    if unit == "gpu":
        assert (lot["announced_chips"], lot["announced_unit"]) == (None, None)
    else:
        assert (lot["announced_chips"], lot["announced_unit"]) == (int(count), unit.lower())
    summary = tracker.ok("summary", "--by", "country", "--format", "csv")
    assert summary.splitlines()[1].startswith(f"FR,1,{accelerators},")


def test_show_and_export_carry_the_count_as_announced(tracker: Tracker) -> None:
    tracker.ok(
        "add", "Rack site", "--country", "FR", "--chips", "18", "--unit", "rack",
        "--vendor", "NVIDIA", "--model", "GB200", "--source", "https://example.org/a",
    )  # fmt: skip
    shown = tracker.ok("show", "rack-site")
    assert "announced as" in shown
    row = next(line for line in shown.splitlines() if "GB200" in line)
    assert row.split()[3:6] == ["1,296", "18", "racks"]
    lot = export_cells(tracker.export())[0]
    assert (lot["chips"], lot["qualifier"], lot["announced_chips"], lot["announced_unit"]) == (
        "1296",
        "exact",
        "18",
        "rack",
    )


def test_an_export_with_counts_as_announced_imports_into_an_empty_database_byte_for_byte(
    tracker: Tracker, tmp_path: Path, empty_db_url: str
) -> None:
    tracker.ok(
        "add", "Rack site", "--country", "FR", "--chips", "18", "--unit", "rack",
        "--vendor", "NVIDIA", "--model", "GB200", "--source", "https://example.org/a",
    )  # fmt: skip
    tracker.ok("add", "Plain", "--country", "DE", "--chips", "10", "--vendor", "AMD", "--source", "x")
    exported = tracker.export()
    path = tmp_path / "lots.csv"
    path.write_text(exported, encoding="utf-8")
    other = Tracker(empty_db_url)
    other.ok("init", "--no-seed")
    other.ok("import", str(path))
    assert other.export() == exported
    assert other.ok("import", str(path)).startswith("0 added, 0 updated, 2 unchanged")


# What the rows of the files below share: a French entry's lot of NVIDIA chips.
ROW = {"name": "X", "country": "FR", "status": "announced", "lot": 1, "vendor": "NVIDIA", "sources": "x"}
ROW |= {"qualifier": "exact"}


def test_an_import_refuses_chips_that_are_not_the_count_as_announced(
    tracker: Tracker, tmp_path: Path
) -> None:
    tracker.ok("add", "Other", "--country", "DE", "--chips", "10", "--vendor", "AMD", "--source", "x")
    before = database_contents(tracker)
    header = tracker.export().splitlines()[0]
    rows = [
        export_line(**ROW, id="a", model="GB200", chips=1300, announced_chips=18, announced_unit="rack"),
        export_line(**ROW, id="b", model="H100", announced_chips=18, announced_unit="rack"),
        export_line(**ROW, id="c", model="H100", chips=100, announced_unit="server"),
        export_line(**ROW, id="d", model="GB200", announced_chips=2, announced_unit="crate"),
    ]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = tracker("import", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:2: chips: 1,300 is not 18 racks of NVIDIA GB200: those are 1,296"
    assert lines[1].startswith(f"{path}:3: announced_unit: the catalogue gives no accelerators per rack")
    assert lines[2] == f"{path}:4: announced_chips: is missing; give the count of that unit"
    assert lines[3].startswith(f"{path}:5: announced_unit: unknown unit 'crate'")
    assert "Traceback" not in result.stderr
    assert database_contents(tracker) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--chips", "18", "--unit", "rack", "--vendor", "NVIDIA", "--model", "H100"],
            "Error: --unit: the catalogue gives no accelerators per rack for NVIDIA H100; "
            "units accepted for it: gpu, server",
        ),
        (
            ["--chips", "18", "--unit", "rack", "--vendor", "NVIDIA"],
            "Error: --unit: rack needs a model: the catalogue gives accelerators per rack by model",
        ),
        (
            ["--chips", "18", "--unit", "crate", "--vendor", "NVIDIA", "--model", "GB200"],
            "Error: --unit: unknown unit 'crate'; use one of: gpu, superchip, server, rack",
        ),
        (
            ["--unit", "rack", "--vendor", "NVIDIA", "--model", "GB200"],
            "Error: --chips: is needed with vendor and model; give the chip count",
        ),
        (
            ["--chips", "100000000000", "--unit", "rack", "--vendor", "NVIDIA", "--model", "GB200"],
            "Error: --chips: 100,000,000,000 racks of NVIDIA GB200 are 7,200,000,000,000 accelerators, "
            "more than 1,000,000,000,000",
        ),
        (
            ["--chips", "10", "--unit", "", "--vendor", "NVIDIA", "--model", "GB200"],
            "Error: --unit: is empty; give gpu, superchip, server or rack",
        ),
        (
            ["--chips", "0", "--unit", "rack", "--vendor", "NVIDIA", "--model", "GB200"],
            "Error: --chips: '0' is not a chip count; give a whole number from 1 to 1,000,000,000,000",
        ),
    ],
)
def test_a_unit_that_cannot_be_counted_is_refused(tracker: Tracker, args: list[str], message: str) -> None:
    before = database_contents(tracker)
    result = tracker("add", "Site", "--country", "FR", "--source", "x", *args)
    assert (result.exit_code, result.stderr) == (2, message + "\n")
    assert database_contents(tracker) == before


def test_update_counts_the_unit_and_keeps_a_count_of_racks_through_a_change_of_model(
    tracker: Tracker,
) -> None:
    tracker.ok(
        "add", "Site", "--country", "FR", "--chips", "18", "--unit", "rack",
        "--vendor", "NVIDIA", "--model", "GB200", "--source", "x",
    )  # fmt: skip
    tracker.ok("update", "site", "--model", "GB300", "--source", "y")
    assert lot_of(tracker, "site")["chips"] == 1296
    tracker.ok("update", "site", "--chips", "20", "--unit", "rack")
    lot = lot_of(tracker, "site")
    assert (lot["chips"], lot["announced_chips"], lot["announced_unit"]) == (1440, 20, "rack")
    changes = tracker.ok("changes", "--since", "2000-01-01", "--format", "csv")
    assert "lot 1 announced_chips,18,20" in changes
    tracker.ok("update", "site", "--chips", "1500")  # GPUs: no count as announced any more
    lot = lot_of(tracker, "site")
    assert (lot["chips"], lot["announced_chips"], lot["announced_unit"]) == (1500, None, None)
    before = database_contents(tracker)
    result = tracker("update", "site", "--unit", "rack")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --unit: is given without --chips; give the count of that unit\n",
    )
    result = tracker("update", "site", "--model", "H100", "--chips", "2", "--unit", "rack")
    assert result.exit_code == 2
    assert "no accelerators per rack for NVIDIA H100" in result.stderr
    assert database_contents(tracker) == before


def test_a_change_of_model_that_cannot_hold_the_racks_announced_says_so(tracker: Tracker) -> None:
    tracker.ok(
        "add", "Site", "--country", "FR", "--chips", "18", "--unit", "rack",
        "--vendor", "NVIDIA", "--model", "GB200", "--source", "x",
    )  # fmt: skip
    before = database_contents(tracker)
    result = tracker("update", "site", "--model", "H100")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --model: lot 1 was announced as 18 racks, and the catalogue gives no accelerators per rack "
        "for NVIDIA H100; units accepted for it: gpu, server; give --chips (and --unit) for the new model\n",
    )
    assert database_contents(tracker) == before


def test_an_import_refuses_a_count_of_units_beyond_the_chip_limit(tracker: Tracker, tmp_path: Path) -> None:
    header = tracker.export().splitlines()[0]
    path = tmp_path / "big.csv"
    row = export_line(**ROW, id="big", model="GB200", announced_chips=100_000_000_000, announced_unit="rack")
    path.write_text(f"{header}\n{row}\n")
    result = tracker("import", str(path), "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:2: announced_chips: 100,000,000,000 racks of NVIDIA GB200 are ")
