"""docs/compute.md says what the Epoch import gives: the catalogue's coverage, the entries
whose H100-equivalents on Epoch's basis differ from Epoch's own, and the power factor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from tests.evidence import (
    EPOCH_FILE,
    ROOT,
    chosen_factor,
    compared,
    coverage_of,
    distribution,
    entry_figures,
    power_ratios,
)
from tracker import Tracker
from tracker.model.values import POWER_FACTOR

PAGE = ROOT / "docs" / "compute.md"


@contextmanager
def imported(url: str) -> Iterator[Tracker]:
    """The database with Epoch's file imported, as `tracker import --from epoch --skip-invalid`."""
    assert EPOCH_FILE.is_file(), f"{EPOCH_FILE} is missing: put shared/ beside the checkout"
    with Tracker(url) as tracker:
        tracker.import_file(EPOCH_FILE, file_format="epoch", skip_invalid=True)
        yield tracker


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_page_gives_the_coverage_and_every_entry_that_differs_from_epoch(db_url: str) -> None:
    with imported(db_url) as tracker:
        check_coverage_and_differences(tracker)


def check_coverage_and_differences(tracker: Tracker) -> None:
    page = PAGE.read_text(encoding="utf-8")
    cover = coverage_of(tracker)
    assert f"imported chips ({cover.chips:,}, counted" in flat(page)
    shares = (cover.share(cover.h100e_bf16), cover.share(cover.h100e_epoch), cover.share(cover.power))
    assert "| after | {}% | {}% | {}% |".format(*shares) in page
    # The chips of rows without a chip type: no figure covers them.
    unnamed = next(row["chips"] for row in tracker.summary(by="model").rows if row["model"] is None)
    ceiling = 100 - 100 * unnamed / cover.chips
    assert f"{unnamed:,} of the imported chips ({100 * unnamed / cover.chips:.1f}%)" in flat(page)
    assert f"exceed {ceiling:.1f}% of the file's chips" in flat(page)

    within, others = compared(entry_figures(tracker))
    assert f"There are {len(within) + len(others)} such entries" in flat(page)
    assert f"within 1% of Epoch's for {len(within)} of them" in flat(page)
    listed = re.findall(
        r"^\| `([a-z0-9-]+)` \| (.*?) \| (.*?) \| (.*?) \| (.*?) \| (.*?) \| (.+) \|$", page, re.M
    )
    assert {row[0] for row in listed} == {figures.entry_id for figures in others}
    for figures in others:
        (row,) = [row for row in listed if row[0] == figures.entry_id]
        assert row[1:6] == (
            figures.models,
            f"{figures.chips:,}",
            f"{figures.epoch:,.0f}",
            f"{figures.h100e:,.0f}",
            f"{(figures.difference or 0) * 100:+.0f}%",
        )
        assert row[6].startswith(("Different chip figure.", "Epoch error.", "As for ", "Epoch counts GB300"))
    # Every model `tracker check` finds without a figure is on the page, with why.
    for finding in tracker.check().rows:
        if finding["entry"] == "(catalogue)":
            vendor_model = finding["problem"].split(" has ")[0]
            assert vendor_model.split()[-1] in page, vendor_model


def test_the_default_power_factor_is_the_median_of_reported_power_over_tdp(seeded_db_url: str) -> None:
    with imported(seeded_db_url) as tracker:
        ratios = power_ratios(tracker)
        far = [f for f in tracker.check().rows if f["problem"].startswith("reports ")]
    spread = distribution([ratio for _, ratio in ratios])
    row = "| {n} | {min} | {q1} | {median} | {q3} | {max} |".format(**{k: str(v) for k, v in spread.items()})
    page = PAGE.read_text(encoding="utf-8")
    assert row in page
    assert chosen_factor([ratio for _, ratio in ratios]) == POWER_FACTOR
    assert f"default factor: **{POWER_FACTOR}**" in flat(page)
    # The entries `tracker check` finds more than 3 times off their estimate, named on the page.
    assert [finding["entry"] for finding in far] == ["mit-llsc-tx-gaia"]
    (gaia,) = far
    estimate = gaia["problem"].split(" the ")[1].split(" MW")[0]  # as the check gives it
    assert f"`mit-llsc-tx-gaia`, 2.572 MW reported against {estimate} MW estimated" in flat(page)
