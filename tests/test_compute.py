"""Compute figures: H100-equivalents on the bf16 and Epoch bases, the power factor, the
families of the catalogue, and what `tracker check` says of figures that are missing or far
from the reported ones."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tests.test_capacity import catalogue_figures, summary_rows
from tests.test_dump import execute
from tracker import Tracker as Library
from tracker.errors import InvalidValue
from tracker.model.values import POWER_FACTOR

SOURCE = ("--source", "https://example.org/a")
SHEET = ("--source", "Test datasheet, https://example.org/sheet")


def add_test_models(tracker: Tracker) -> None:
    """A vendor of its own, with models whose figures the tests choose."""
    tracker.ok("chips", "add", "Testco", "X1", "--new-vendor", "--bf16-tflops", "1000", "--int8-tops", "2000",
               "--tdp-w", "700", *SHEET)  # fmt: skip
    tracker.ok("chips", "add", "Testco", "X2", "--bf16-tflops", "500", "--int8-tops", "250", *SHEET)
    tracker.ok("chips", "add", "Testco", "X3", "--fp16-tflops", "100", *SHEET)  # no BF16
    tracker.ok("chips", "add", "Testco", "X4", "--int8-tops", "300", *SHEET)  # INT8 only
    tracker.ok("chips", "add", "Testco", "X5")  # no figures at all


def add(tracker: Tracker, name: str, country: str, chips: int, vendor: str, model: str, *more: str) -> None:
    tracker.ok("add", name, "--country", country, "--chips", str(chips), "--vendor", vendor,
               "--model", model, *more, *SOURCE)  # fmt: skip


def test_h100e_on_each_basis_for_a_known_chip_mix(tracker: Tracker) -> None:
    add_test_models(tracker)
    for name, chips, vendor, model in (
        ("A", 300, "Testco", "X1"), ("B", 200, "Testco", "X2"), ("C", 100, "Testco", "X3"),
        ("D", 50, "Testco", "X4"), ("E", 40, "Testco", "X5"), ("F", 10, "NVIDIA", "H100"),
    ):  # fmt: skip
        add(tracker, name, "FR", chips, vendor, model)
    h100 = catalogue_figures()[("NVIDIA", "H100")]
    h100_bf16, h100_int8 = Decimal(h100["bf16_tflops"]), Decimal(h100["int8_tops"])
    assert (h100_bf16, h100_int8) == (Decimal("989.5"), Decimal(1979))  # the H100 SXM's sheet, dense

    # bf16: chips x dense BF16 / the H100's; X3, X4 and X5 have no BF16 figure.
    bf16 = (300 * 1000 + 200 * 500 + 10 * h100_bf16) / h100_bf16
    # epoch: chips x the larger of the 16-bit (BF16 or FP16) and INT8 rates / the H100's INT8;
    # X1 counts its INT8 (2,000 > 1,000), X2 its BF16 (500 > 250), X3 its FP16, X4 its INT8.
    epoch = (300 * 2000 + 200 * 500 + 100 * 100 + 50 * 300 + 10 * h100_int8) / h100_int8
    (row,) = summary_rows(tracker, "--by", "country")
    assert (row["h100e"], row["h100e_chips"], row["h100e_basis"]) == (float(round(bf16, 1)), 510, "bf16")
    result = tracker("summary", "--by", "country", "--h100e-basis", "epoch", "--format", "json")
    (row,) = json.loads(result.stdout)
    assert (row["h100e"], row["h100e_chips"], row["h100e_basis"]) == (float(round(epoch, 1)), 660, "epoch")
    assert "h100e (basis epoch)" in result.stderr
    assert "(1979)" in result.stderr
    # A table marks both as lower bounds: the chips of X5 (and X3, X4 on bf16) have no rate.
    (line,) = [
        line for line in tracker.ok("summary", "--h100e-basis", "EPOCH").splitlines() if "Total" in line
    ]
    assert f"≥ {round(epoch):,}" in line
    # The timeline counts the same figures on either basis.
    for basis, expected in (("bf16", bf16), ("epoch", epoch)):
        timeline = json.loads(tracker.ok("timeline", "--h100e-basis", basis, "--format", "json"))
        assert sum(period["h100e"] for period in timeline) == float(round(expected, 1))
        assert {period["h100e_basis"] for period in timeline} == {basis}


def test_the_api_takes_the_basis_and_the_power_factor(db_url: str) -> None:
    with Library(db_url) as library:
        check_the_api(library)


def check_the_api(library: Library) -> None:
    library.add(
        "Site", country="FR", chips=1000, vendor="NVIDIA", model="H100", source="https://example.org/a"
    )
    tdp = int(catalogue_figures()[("NVIDIA", "H100")]["tdp_w"])
    (row,) = library.summary(by="country", h100e_basis="epoch", power_factor="1.5").rows
    assert row["h100e"] == 1000.0  # the H100 is one H100-equivalent on either basis
    # 1,000 x the H100's TDP x 1.5, in MW, rounded once, halves up
    assert row["power_mw"] == float(
        (Decimal(1000 * tdp) * Decimal("1.5") / 1_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP)
    )
    assert (row["h100e_basis"], row["power_factor"]) == ("epoch", 1.5)
    for bad, field in (({"h100e_basis": "fp8"}, "h100e_basis"), ({"power_factor": "0.5"}, "power_factor")):
        with pytest.raises(InvalidValue) as raised:
            library.summary(**bad)  # type: ignore[arg-type]
        assert raised.value.field == field


def test_estimated_power_is_chips_times_tdp_times_the_power_factor(tracker: Tracker) -> None:
    add_test_models(tracker)
    add(tracker, "Site", "FR", 1000, "Testco", "X1")  # 700 W, no reported power
    (row,) = summary_rows(tracker, "--by", "country")
    # 1,000 x 700 W x the default factor, in MW
    assert row["power_mw"] == float(round(Decimal(1000 * 700) * POWER_FACTOR / 1_000_000, 1))
    assert row["power_factor"] == float(POWER_FACTOR)
    (row,) = summary_rows(tracker, "--by", "country", "--power-factor", "3")
    assert (row["power_mw"], row["power_mw_estimated"], row["power_factor"]) == (2.1, 2.1, 3.0)  # 0.7 MW x 3
    result = tracker("summary", "--power-factor", "3")
    assert "TDP x 3 (--power-factor" in result.stderr
    for bad in ("0.9", "11", "two", "nan", "-2", "1_0", "2,1", "1e1", "2.125", "１"):
        result = tracker("summary", "--power-factor", bad)
        assert result.exit_code != 0
        assert result.stderr.splitlines() == [
            f"Error: --power-factor: {bad!r} is not a power factor; give the site's watts per watt of "
            f"chip TDP, from 1 to 10 with at most 2 decimals, such as {POWER_FACTOR}"
        ]


def test_a_name_that_covers_several_models_groups_with_them_by_family(tracker: Tracker) -> None:
    models = catalogue_figures()
    families = {key: row["family"] for key, row in models.items()}
    blackwell = families[("NVIDIA", "Grace Blackwell")]
    assert blackwell == families[("NVIDIA", "GB200")] == families[("NVIDIA", "GB300")]
    assert families[("NVIDIA", "H100")] != blackwell
    add(tracker, "A", "FR", 1000, "NVIDIA", "GB200")
    add(tracker, "B", "DE", 500, "NVIDIA", "GB300")
    add(tracker, "C", "FR", 200, "NVIDIA", "Grace Blackwell")
    add(tracker, "D", "IT", 100, "NVIDIA", "H100")
    tracker.ok("add", "E", "--country", "ES", "--chips", "70", "--vendor", "unknown", *SOURCE)
    rows = {row["family"]: row for row in summary_rows(tracker, "--by", "family")}
    assert {family: (row["entries"], row["chips"]) for family, row in rows.items()} == {
        blackwell: (3, 1000 + 500 + 200),
        families[("NVIDIA", "H100")]: (1, 100),
        None: (1, 70),  # no model, no family
    }
    rows_by_both = summary_rows(tracker, "--by", "family", "--by", "model")
    by_both = {(row["family"], row["model"]): row["chips"] for row in rows_by_both}
    assert by_both[(blackwell, "Grace Blackwell")] == 200  # the name stays as given
    assert "(not given)" in tracker.ok("summary", "--by", "family")


def test_check_lists_models_without_figures_and_power_far_from_its_estimate(tracker: Tracker) -> None:
    add_test_models(tracker)
    add(tracker, "No figures", "FR", 1000, "Testco", "X5")
    add(tracker, "Reported", "DE", 300, "Testco", "X5", "--power-mw", "5")  # reported: power known
    add(tracker, "Kilowatts", "IT", 1000, "Testco", "X1", "--power-mw", "150")  # 150 MW for 1.47
    add(tracker, "Close", "ES", 1000, "Testco", "X1", "--power-mw", "2")  # 2 MW for 1.47
    add(tracker, "Tiny", "PT", 1000, "Testco", "X1", "--power-mw", "0.4")  # 0.4 MW for 1.47
    result = tracker("check", "--format", "json")
    assert result.exit_code == 1
    problems: dict[str, list[str]] = {}
    for finding in json.loads(result.stdout):
        problems.setdefault(finding["entry"], []).append(finding["problem"])
    # X5 has neither figure: 1,300 chips without h100e; 1,000 of them without reported power.
    (catalogue,) = problems["(catalogue)"]
    assert catalogue.startswith(
        "Testco X5 has no dense BF16 figure: 1,300 chips left out of h100e; "
        "no TDP: 1,000 chips without reported power left out of power_mw"
    )
    estimate = Decimal(1000 * 700) * POWER_FACTOR / 1_000_000  # 1.47 MW
    (kilowatts,) = problems["kilowatts"]
    assert kilowatts.startswith(f"reports 150 MW, {Decimal(150) / estimate:.1f}x the {estimate:.2f} MW")
    (tiny,) = problems["tiny"]
    assert tiny.startswith(f"reports 0.4 MW, 1/{estimate / Decimal('0.4'):.1f} the {estimate:.2f} MW")
    assert "close" not in problems  # 2 MW is 1.4 times 1.47: within 3x


def test_the_epoch_basis_counts_nothing_without_the_h100s_int8(tracker: Tracker, db_url: str) -> None:
    add(tracker, "Site", "FR", 300, "NVIDIA", "H100")
    execute(db_url, "UPDATE chip_model SET int8_tops = NULL WHERE vendor = 'NVIDIA' AND name = 'H100'")
    result = tracker("summary", "--by", "country", "--h100e-basis", "epoch", "--format", "json")
    (row,) = json.loads(result.stdout)
    assert (row["h100e"], row["h100e_basis"]) == (None, "epoch")  # never against another rate
    assert "(not in the catalogue: no h100e)" in result.stderr
    (row,) = summary_rows(tracker, "--by", "country")
    assert row["h100e"] == 300.0  # the bf16 basis has its reference


def test_an_upgrade_fills_the_bundled_figures_a_model_lacks_and_keeps_a_users(
    tracker: Tracker, db_url: str
) -> None:
    bundled = catalogue_figures()
    # As a database made before the catalogue had INT8 and FP16 figures, and the B300's family
    # was Blackwell Ultra: a user set the H100's TDP with their source; the V100 had no figures;
    # the A100 had the figures it has now, under an older text.
    execute(db_url, "UPDATE chip_model SET int8_tops = NULL, fp16_tflops = NULL")
    execute(db_url, "UPDATE chip_model SET tdp_w = 750, figures_source = 'my H100 sheet' WHERE name = 'H100'")
    execute(db_url, "UPDATE chip_model SET tdp_w = NULL, figures_source = NULL WHERE name = 'V100'")
    execute(db_url, "UPDATE chip_model SET figures_source = 'an older text' WHERE name = 'A100'")
    execute(db_url, "UPDATE chip_model SET family = 'Blackwell Ultra' WHERE name = 'B300'")
    tracker.ok("init", "--no-seed")
    models = {
        (row["vendor"], row["model"]): row for row in json.loads(tracker.ok("chips", "--format", "json"))
    }
    h100 = models[("NVIDIA", "H100")]
    assert (h100["tdp_w"], str(h100["int8_tops"]), str(h100["fp16_tflops"])) == (
        750,  # the user's
        bundled[("NVIDIA", "H100")]["int8_tops"],
        bundled[("NVIDIA", "H100")]["fp16_tflops"],
    )
    sheet = bundled[("NVIDIA", "H100")]["figures_source"]
    assert (
        h100["figures_source"] == f"my H100 sheet; fp16_tflops, int8_tops from the bundled catalogue: {sheet}"
    )
    for name in ("V100", "A100"):  # figures that agree with the bundled ones take its source too
        assert models[("NVIDIA", name)]["figures_source"] == bundled[("NVIDIA", name)]["figures_source"]
        assert str(models[("NVIDIA", name)]["tdp_w"]) == bundled[("NVIDIA", name)]["tdp_w"]
    assert models[("NVIDIA", "B300")]["family"] == bundled[("NVIDIA", "B300")]["family"]
    add(tracker, "Site", "FR", 300, "NVIDIA", "H100")
    (row,) = summary_rows(tracker, "--by", "country", "--h100e-basis", "epoch")
    assert row["h100e"] == 300.0


def test_a_dump_of_an_older_catalogue_restores_to_the_bundled_one(
    tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    add(tracker, "Site", "FR", 300, "NVIDIA", "V100")
    fresh = tracker.ok("chips", "--format", "csv")
    older = []  # as a tracker before the INT8 and FP16 figures dumped it: no such fields, no V100 figures
    for line in tracker.ok("dump").splitlines():
        record = json.loads(line)
        if record["type"] == "chip_model":
            del record["fp16_tflops"], record["int8_tops"]
            if record["name"] == "V100":
                record.update(tdp_w=None, figures_source=None)
        older.append(json.dumps(record))
    path = tmp_path / "older.jsonl"
    path.write_text("\n".join(older) + "\n", encoding="utf-8")
    target = Tracker(empty_db_url)
    target.ok("restore", str(path))
    assert target.ok("chips", "--format", "csv") == fresh
    assert target.ok("summary", "--format", "csv") == tracker.ok("summary", "--format", "csv")


def test_the_timeline_splits_each_period_by_family(tracker: Tracker) -> None:
    families = {key: row["family"] for key, row in catalogue_figures().items()}
    blackwell, hopper = families[("NVIDIA", "GB200")], families[("NVIDIA", "H100")]
    add(tracker, "A", "FR", 1000, "NVIDIA", "GB200", "--online", "2026-02")
    add(tracker, "B", "DE", 500, "NVIDIA", "GB300", "--online", "Q1 2026")
    add(tracker, "C", "IT", 300, "NVIDIA", "H100", "--online", "Q1 2026")
    add(tracker, "D", "ES", 200, "NVIDIA", "H100", "--online", "2026")
    tracker.ok("add", "E", "--country", "PT", "--chips", "70", "--vendor", "unknown", *SOURCE)
    rows = json.loads(tracker.ok("timeline", "--by", "family", "--format", "json"))
    assert [(row["period"], row["family"], row["entries"], row["chips"]) for row in rows] == [
        ("2026-Q1", blackwell, 2, 1000 + 500),  # most chips first within a period
        ("2026-Q1", hopper, 1, 300),
        ("2026", hopper, 1, 200),  # a coarser period, after the quarters it spans
        ("undated", None, 1, 70),
    ]
    # Each period's rows add up to the plain timeline's row, on either basis.
    for basis in ("bf16", "epoch"):
        plain = json.loads(tracker.ok("timeline", "--h100e-basis", basis, "--format", "json"))
        split = json.loads(
            tracker.ok("timeline", "--by", "family", "--h100e-basis", basis, "--format", "json")
        )
        for period in plain:
            parts = [row for row in split if row["period"] == period["period"]]
            assert sum(row["chips"] for row in parts) == period["chips"]
            assert round(sum(row["h100e"] or 0 for row in parts), 1) == (period["h100e"] or 0)
    by_year = json.loads(tracker.ok("timeline", "--by", "year", "--by", "family", "--format", "json"))
    assert [(row["period"], row["family"], row["chips"]) for row in by_year][:2] == [
        ("2026", blackwell, 1500),
        ("2026", hopper, 300 + 200),
    ]
    for refused in (("--cumulative",), ("--first-announced",), ("--by", "year", "--by", "quarter")):
        result = tracker("timeline", "--by", "family", *refused)
        assert result.exit_code != 0
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith("Error: --by: ")


def test_a_source_that_replaces_the_one_of_other_figures_is_told_with_the_old_text(tracker: Tracker) -> None:
    add_test_models(tracker)
    before = {
        row["model"]: row for row in json.loads(tracker.ok("chips", "--vendor", "Testco", "--format", "json"))
    }
    result = tracker("chips", "set", "Testco", "X1", "--int8-tops", "2100", "--source", "Another sheet")
    assert result.exit_code == 0
    # X1's BF16 and TDP came from the test's sheet: the warning keeps its text for the reader.
    assert result.stderr.splitlines() == [
        "Warning: Testco X1: the source given replaces the one its other figures (bf16_tflops, tdp_w) "
        f"came from, which was: {before['X1']['figures_source']}"
    ]
    again = tracker("chips", "set", "Testco", "X1", "--int8-tops", "2200", "--source", "Another sheet")
    assert again.stderr == ""  # the same source: nothing replaced
    fresh = tracker("chips", "set", "Testco", "X5", "--tdp-w", "300", "--source", "A sheet")
    assert fresh.stderr == ""  # no figures before: no source replaced
    whole = tracker(
        "chips", "set", "Testco", "X2", "--bf16-tflops", "510", "--int8-tops", "260", "--source", "New"
    )
    assert whole.stderr == ""  # every figure it has given again, with the new source
