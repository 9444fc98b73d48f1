"""H100-equivalents and power: from the catalogue's figures, each with its source."""

from __future__ import annotations

import csv
import importlib.resources
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.conftest import Tracker
from tracker.model.tables import CHIP_FIGURES
from tracker.model.values import POWER_FACTOR

SOURCE = ("--source", "https://example.org/a")


def catalogue_figures() -> dict[tuple[str, str], dict[str, str]]:
    """The bundled catalogue, read from its seed file, not through the tracker."""
    text = importlib.resources.files("tracker.seeds").joinpath("chip_models.csv").read_text(encoding="utf-8")
    return {(row["vendor"], row["model"]): row for row in csv.DictReader(io.StringIO(text))}


def estimated_mw(tdp_watts: int) -> float:
    """Power estimated from chips x TDP (in watts) with the default power factor, in MW as
    JSON gives it: rounded once to 0.1, halves up."""
    return float((Decimal(tdp_watts) * POWER_FACTOR / 1_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP))


def summary_rows(tracker: Tracker, *args: str) -> list[dict[str, object]]:
    return list(json.loads(tracker.ok("summary", *args, "--format", "json")))


def test_every_catalogue_figure_has_a_source() -> None:
    models = catalogue_figures()
    with_figures = [key for key, row in models.items() if any(row[name] for name in CHIP_FIGURES)]
    assert len(with_figures) >= 40
    for key in with_figures:
        source = models[key]["figures_source"]
        assert source, f"{key} has figures without a source"
        for name in ("bf16_tflops", "fp16_tflops", "fp8_tflops", "int8_tops", "tdp_w"):
            if models[key][name]:  # the source names each figure it gives, as its sheet writes it
                assert name.split("_")[0].upper() in source.upper() or "TBP" in source, (key, name)
    assert models[("NVIDIA", "H100")]["bf16_tflops"] == "989.5"  # the reference chip


def test_the_seed_h100e_is_chips_times_the_models_bf16_over_the_h100s(seeded_tracker: Tracker) -> None:
    models = catalogue_figures()
    h100 = Decimal(models[("NVIDIA", "H100")]["bf16_tflops"])
    # By hand, from the seed report's figures: 4,000 B300 (Nebius UK) and 18,000 Grace Blackwell
    # (Mistral AI), and since, Mistral AI's 13,800 GB300; the German factory's 10,000 and the
    # plan's rest have no model.
    nebius = 4000 * Decimal(models[("NVIDIA", "B300")]["bf16_tflops"]) / h100
    mistral = (
        18000 * Decimal(models[("NVIDIA", "Grace Blackwell")]["bf16_tflops"])
        + 13800 * Decimal(models[("NVIDIA", "GB300")]["bf16_tflops"])
    ) / h100
    rows = {
        row["country"]: row for row in summary_rows(seeded_tracker, "--by", "country", "--region", "europe")
    }
    assert rows["GB"]["h100e"] == float(nebius.quantize(Decimal("0.1"))) == 9095.5
    assert rows["FR"]["h100e"] == float(mistral.quantize(Decimal("0.1")))
    assert rows["DE"]["h100e"] is None  # no model: empty, never zero
    assert rows[None]["h100e"] is None
    assert (rows["GB"]["h100e_chips"], rows["DE"]["h100e_chips"]) == (4000, 0)
    table = seeded_tracker.ok("summary", "--region", "europe").splitlines()
    total = (nebius + mistral).quantize(Decimal("1"))
    assert table[-1].split()[4:6] == ["≥", f"{total:,}"]  # the rest of the chips have no figure: at least
    result = seeded_tracker("summary", "--region", "europe")
    assert "dense BF16 TFLOP/s / the NVIDIA H100 SXM's (989.5)" in result.stderr


def test_power_is_reported_where_given_and_estimated_from_tdp_otherwise(tracker: Tracker) -> None:
    tracker.ok("add", "Reported", "--country", "FR", "--chips", "1000", "--vendor", "NVIDIA",
               "--model", "H100", "--power-mw", "30", *SOURCE)  # fmt: skip
    tracker.ok("add", "Estimated", "--country", "DE", "--chips", "1000", "--vendor", "NVIDIA",
               "--model", "H100", *SOURCE)  # fmt: skip
    tracker.ok("add", "No figure", "--country", "ES", "--chips", "1000", "--vendor", "NVIDIA",
               "--model", "Rubin", *SOURCE)  # fmt: skip
    rows = {row["country"]: row for row in summary_rows(tracker, "--by", "country")}
    assert (rows["FR"]["power_mw"], rows["FR"]["power_mw_estimated"]) == (30.0, 0.0)
    # 1,000 x 700 W x the power factor, in MW, rounded once, half up
    de = estimated_mw(1000 * 700)
    assert (rows["DE"]["power_mw"], rows["DE"]["power_mw_estimated"]) == (de, de)
    assert (rows["ES"]["power_mw"], rows["ES"]["power_chips"], rows["ES"]["h100e"]) == (None, 0, None)
    table = {
        line.split()[0]: line.split()[1:] for line in tracker.ok("summary", "--by", "country").splitlines()
    }
    assert table["FR"] == ["1", "1,000", "1,000", "30.0"]
    assert table["DE"] == ["1", "1,000", "1,000", f"{de:.1f}", "est."]
    assert table["ES"] == ["1", "1,000"]
    total_mw = round(30 + Decimal(1000 * 700) * POWER_FACTOR / 1_000_000, 1)
    assert table["Total"] == ["3", "3,000", "≥", "2,000", "≥", f"{total_mw}", "est."]


def test_reported_power_is_shared_among_an_entrys_lots_by_chips(tracker: Tracker) -> None:
    tracker.ok("add", "Site", "--country", "FR", "--chips", "3000", "--vendor", "NVIDIA", "--model", "H100",
               "--power-mw", "40", *SOURCE)  # fmt: skip
    tracker.ok("update", "site", "--lot", "2", "--chips", "1000", "--vendor", "AMD", "--model", "MI300X")
    rows = {row["vendor"]: row for row in summary_rows(tracker, "--by", "vendor")}
    assert (rows["NVIDIA"]["power_mw"], rows["AMD"]["power_mw"]) == (30, 10)
    assert rows["AMD"]["h100e"] == 1321.3  # 1,000 x 1,307.4 / 989.5


def test_units_and_h100e_agree_on_accelerators(tracker: Tracker) -> None:
    tracker.ok("add", "Racks", "--country", "FR", "--chips", "10", "--unit", "rack", "--vendor", "NVIDIA",
               "--model", "GB300", *SOURCE)  # fmt: skip
    (row,) = summary_rows(tracker, "--by", "model")
    assert (row["chips"], row["h100e"]) == (720, 1819.1)  # 720 x 2,500 / 989.5
    assert row["power_mw"] == estimated_mw(720 * 1400)  # 720 x 1,400 W x the power factor


@pytest.mark.parametrize("fmt", ["csv", "json", "table", "markdown"])
def test_every_summary_output_names_the_h100e_basis(seeded_tracker: Tracker, fmt: str) -> None:
    result = seeded_tracker("summary", "--format", fmt)
    assert result.exit_code == 0
    assert "H100-equivalents" in result.stderr
    assert f"TDP x {POWER_FACTOR}" in result.stderr
    assert "H100-equivalents" not in result.stdout  # stdout holds the data only
    assert "dense BF16" in seeded_tracker.ok("summary", "--help")


def test_a_programmes_remainder_carries_its_models_figures(tracker: Tracker) -> None:
    tracker.ok("add", "Plan", "--kind", "programme", "--scope", "eu", "--chips", "10000",
               "--vendor", "NVIDIA", "--model", "B200", *SOURCE)  # fmt: skip
    tracker.ok("add", "Part", "--country", "FR", "--parent", "plan", "--chips", "4000", "--vendor", "NVIDIA",
               "--model", "B200", *SOURCE)  # fmt: skip
    rows = {row["country"]: row for row in summary_rows(tracker, "--by", "country")}
    assert (rows[None]["chips"], rows["FR"]["chips"]) == (6000, 4000)
    assert rows[None]["h100e"] == 13643.3  # 6,000 x 2,250 / 989.5
    assert rows[None]["power_mw"] == estimated_mw(6000 * 1000)  # 6,000 x 1,000 W x the power factor


def test_chips_lists_figures_with_their_source(tracker: Tracker) -> None:
    models = {
        row["model"]: row for row in json.loads(tracker.ok("chips", "--vendor", "NVIDIA", "--format", "json"))
    }
    assert (
        models["GB200"]["bf16_tflops"],
        models["GB200"]["per_superchip"],
        models["GB200"]["per_rack"],
    ) == (
        2500,
        2,
        72,
    )
    assert models["GB200"]["figures_source"].startswith("NVIDIA GB200 NVL72 specifications")
    assert models["V100"]["bf16_tflops"] is None  # no BF16 on Volta: no figure, never zero
    table = tracker.ok("chips", "--vendor", "NVIDIA")
    assert "figures_source" in table.splitlines()[0]


def test_figures_added_to_the_catalogue_need_a_source_and_give_h100e(tracker: Tracker) -> None:
    from tests.test_cli import database_contents

    before = database_contents(tracker)
    for args, message in (
        (["--bf16-tflops", "2516.6"], "Error: --source: is needed with figures"),
        (
            ["--bf16-tflops", "2516.62", "--source", "x"],
            "Error: --bf16-tflops: '2516.62' is not a TFLOP/s figure",
        ),
        (["--tdp-w", "-5", "--source", "x"], "Error: --tdp-w: '-5' is not a TDP in watts"),
        (["--source", "x"], "Error: --source: is given without figures"),
        ([], "Error: give a figure to set"),
    ):
        result = tracker("chips", "set", "AMD", "MI355X", *args)
        assert (result.exit_code, result.stderr.startswith(message)) == (2, True), result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert database_contents(tracker) == before
    sheet = "AMD Instinct MI355X data sheet (a test's figures)"
    tracker.ok("chips", "set", "amd", "mi355x", "--bf16-tflops", "2500", "--tdp-w", "1400", "--source", sheet)
    tracker.ok(
        "add", "Site", "--country", "FR", "--chips", "1000", "--vendor", "AMD", "--model", "MI355X", *SOURCE
    )
    (row,) = summary_rows(tracker, "--by", "model")
    # 1,000 x 2,500 / 989.5; 1,000 x 1,400 W x the power factor
    assert (row["h100e"], row["power_mw"]) == (2526.5, estimated_mw(1000 * 1400))
    tracker.ok("chips", "add", "Intel", "Gaudi 4", "--bf16-tflops", "3000", "--source", "a test's sheet")
    models = {
        row["model"]: row for row in json.loads(tracker.ok("chips", "--vendor", "Intel", "--format", "json"))
    }
    assert (models["Gaudi 4"]["bf16_tflops"], models["Gaudi 4"]["figures_source"]) == (3000, "a test's sheet")


def test_power_rounds_the_same_on_every_database(tracker: Tracker) -> None:
    # 12.5 MW over 20,576 chips: 12.15008 MW for the 20,000 undisclosed, 0.34992 for the GB200
    tracker.ok("add", "Shared", "--country", "FR", "--chips", "20000", "--vendor", "unknown",
               "--power-mw", "12.5", *SOURCE)  # fmt: skip
    tracker.ok("update", "shared", "--lot", "2", "--chips", "576", "--vendor", "NVIDIA", "--model", "GB200")
    tracker.ok("add", "Big", "--country", "DE", "--chips", "5000", "--vendor", "unknown", "--power-mw", "300",
               *SOURCE)  # fmt: skip
    tracker.ok("add", "Small", "--country", "ES", "--chips", "1000", "--vendor", "unknown",
               "--power-mw", "12.5", *SOURCE)  # fmt: skip
    rows = {row["vendor"]: row for row in summary_rows(tracker, "--by", "vendor")}
    assert (rows["unknown"]["power_mw"], rows["NVIDIA"]["power_mw"]) == (324.7, 0.3)  # 324.65008, 0.34992


def test_figures_are_rounded_once_for_tables(tracker: Tracker) -> None:
    tracker.ok("add", "Site", "--country", "FR", "--chips", "1000", "--vendor", "NVIDIA", "--model", "GB300",
               *SOURCE)  # fmt: skip
    (row,) = summary_rows(tracker, "--by", "model")
    assert row["h100e"] == 2526.5  # 2,526.528...
    table = tracker.ok("summary", "--by", "model").splitlines()
    assert table[2].split()[3] == "2,527"  # not 2,526: rounded from 2,526.528, not from 2,526.5
