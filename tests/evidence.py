"""The evidence behind docs/compute.md: the catalogue's coverage of Epoch AI's GPU clusters,
the tracker's H100-equivalents on Epoch's basis beside Epoch's own, and reported power beside
chips x TDP. ``python -m tests.evidence`` prints it; tests/test_evidence.py checks that the
document says what it computes.

Everything is read through the tracker: the file imported as ``tracker import --from epoch
--skip-invalid`` does, and each entry's figures as the summary counts them.
"""

from __future__ import annotations

import csv
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from tracker import Tracker
from tracker.model.tables import CHIP_FIGURES, ChipModel
from tracker.model.vocabulary import H100eBasis
from tracker.service.capacity import measure
from tracker.service.filters import Filters
from tracker.service.programmes import coverage
from tracker.service.summary import grouped_totals

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("TRACKER_DATASETS", ROOT.parent / "shared" / "datasets"))
EPOCH_FILE = DATASETS / "epoch_sr3k" / "gpu_clusters.csv"
# The catalogue before issue 20 filled it, for the coverage "before".
CATALOGUE_BEFORE = "83978b2"
WITHIN = Decimal("0.01")  # the tracker's figure within 1% of Epoch's


@dataclass(frozen=True)
class EntryFigures:
    entry_id: str
    name: str
    chips: int
    covered: int  # chips with a rate on Epoch's basis
    h100e: Decimal | None  # the tracker's, on Epoch's basis
    epoch: Decimal | None  # Epoch's "H100 equivalents"
    models: str

    @property
    def difference(self) -> Decimal | None:
        """The tracker's figure over Epoch's, less one."""
        if self.h100e is None or not self.epoch:
            return None
        return self.h100e / self.epoch - 1


@dataclass(frozen=True)
class Coverage:
    chips: int
    h100e_bf16: int
    h100e_epoch: int
    power: int

    def share(self, covered: int) -> Decimal:
        return (Decimal(100) * covered / self.chips).quantize(Decimal("0.1"))


@contextmanager
def epoch_database(*, seeds: bool = False) -> Iterator[Tracker]:
    """A temporary SQLite database holding Epoch's file as the import reads it (and the seed
    entries too, if ``seeds``)."""
    with tempfile.TemporaryDirectory() as folder, Tracker(f"sqlite:///{folder}/evidence.db") as tracker:
        tracker.init(seed=seeds)
        tracker.import_file(EPOCH_FILE, file_format="epoch", skip_invalid=True)
        yield tracker


def coverage_of(tracker: Tracker) -> Coverage:
    """How many of the database's planned chips have h100e on each basis, and power."""
    with tracker.session() as session:
        filters = Filters()
        (total,) = grouped_totals(session, filters, (), coverage(session, filters))
        capacity = total.capacity
        return Coverage(total.chips, capacity.bf16_chips, capacity.epoch_chips, capacity.power_chips)


def with_catalogue_before(tracker: Tracker) -> None:
    """Give the database's catalogue the figures it had before this issue (and none that it
    did not have)."""
    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{CATALOGUE_BEFORE}:seeds/chip_models.csv"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rows = {(row["vendor"], row["model"]): row for row in csv.DictReader(text.splitlines())}
    with tracker.session(writes=True) as session:
        for model in session.scalars(sa.select(ChipModel)):
            before = rows.get((model.vendor, model.name), {})
            for name in CHIP_FIGURES:
                value = before.get(name) or None
                setattr(model, name, None if value is None else Decimal(value))


def epoch_rows() -> dict[str, dict[str, str]]:
    """Epoch's rows by name."""
    with EPOCH_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["Name"].strip(): row for row in csv.DictReader(handle)}


def entry_figures(tracker: Tracker) -> list[EntryFigures]:
    """Every imported entry's chips and H100-equivalents on Epoch's basis, beside Epoch's."""
    rows = epoch_rows()
    names = {row["id"]: row["name"] for row in tracker.list().rows}
    with tracker.session() as session:
        filters = Filters()
        cover = coverage(session, filters)
        measured = measure(session, H100eBasis.EPOCH)
        by_entry: dict[object, list[str]] = {}
        for row in grouped_totals(session, filters, ("entry", "model"), cover):
            by_entry.setdefault(row.keys[0], []).append(str(row.keys[1] or "(no model)"))
        models = {entry: ", ".join(sorted(kinds)) for entry, kinds in by_entry.items()}
        figures = []
        for row in grouped_totals(session, filters, ("entry",), cover):
            (entry_id,) = row.keys
            name = names[str(entry_id)]
            epoch = rows[name]["H100 equivalents"].strip() if name in rows else ""
            figures.append(
                EntryFigures(
                    str(entry_id),
                    name,
                    row.chips,
                    measured.h100e_chips(row.capacity),
                    measured.h100e(row.capacity),
                    Decimal(epoch) if epoch else None,
                    models.get(entry_id, ""),
                )
            )
    return figures


def compared(figures: list[EntryFigures]) -> tuple[list[EntryFigures], list[EntryFigures]]:
    """The entries whose chips the catalogue covers on Epoch's basis and that Epoch gives a
    figure for: those within 1% of Epoch's, and the others."""
    both = [f for f in figures if f.chips and f.covered == f.chips and f.difference is not None]
    within = [f for f in both if abs(f.difference or Decimal(0)) <= WITHIN]
    return within, [f for f in both if abs(f.difference or Decimal(0)) > WITHIN]


def power_ratios(tracker: Tracker) -> list[tuple[str, Decimal]]:
    """Each entry reporting its power whose every lot has a model with a TDP: reported power
    over chips x TDP (the factor its site has)."""
    with tracker.session() as session:
        query = sa.text(
            "SELECT e.id, e.power_mw, SUM(l.quantity * m.tdp_w), COUNT(m.tdp_w), COUNT(*) "
            "FROM entry e JOIN chip_lot l ON l.entry_id = e.id "
            "LEFT JOIN chip_model m ON m.vendor = l.vendor AND m.name = l.model "
            "WHERE e.power_mw IS NOT NULL GROUP BY e.id, e.power_mw ORDER BY e.id"
        )
        return [
            (entry_id, Decimal(str(power)) * 1_000_000 / Decimal(str(watts)))
            for entry_id, power, watts, with_tdp, lots in session.execute(query)
            if with_tdp == lots and watts
        ]


def distribution(values: list[Decimal]) -> dict[str, Decimal]:
    """n, the minimum, quartiles, median and maximum, to 2 places."""
    ordered = sorted(values)
    q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return {
        name: Decimal(value).quantize(Decimal("0.01"))
        for name, value in (
            ("min", ordered[0]),
            ("q1", q1),
            ("median", median),
            ("q3", q3),
            ("max", ordered[-1]),
        )
    } | {"n": Decimal(len(ordered))}


def chosen_factor(ratios: list[Decimal]) -> Decimal:
    """The power factor the evidence gives: the median ratio, to one decimal."""
    return Decimal(statistics.median(ratios)).quantize(Decimal("0.1"))


def main() -> None:
    out = sys.stdout
    with epoch_database() as tracker:
        after = coverage_of(tracker)
        figures = entry_figures(tracker)
        epoch_only = power_ratios(tracker)
        with_catalogue_before(tracker)
        before = coverage_of(tracker)
    with epoch_database(seeds=True) as tracker:
        everything = power_ratios(tracker)
    out.write(f"chips {after.chips}\n")
    for label, cover in (("before", before), ("after", after)):
        out.write(
            f"{label}: h100e bf16 {cover.share(cover.h100e_bf16)}% ({cover.h100e_bf16}), "
            f"epoch {cover.share(cover.h100e_epoch)}% ({cover.h100e_epoch}), "
            f"power {cover.share(cover.power)}% ({cover.power})\n"
        )
    within, others = compared(figures)
    out.write(f"compared {len(within) + len(others)}, within 1% {len(within)}\n")
    for f in sorted(others, key=lambda f: f.entry_id):
        out.write(
            f"| `{f.entry_id}` | {f.models} | {f.chips:,} | {f.epoch:,.0f} | {f.h100e:,.0f} | "
            f"{(f.difference or 0) * 100:+.0f}% |\n"
        )
    seeds = [(entry, ratio) for entry, ratio in everything if entry not in dict(epoch_only)]
    out.write(f"power ratios epoch {distribution([r for _, r in epoch_only])}\n")
    out.write(f"seeds {[(entry, round(ratio, 2)) for entry, ratio in seeds]}\n")
    out.write(
        f"all {distribution([r for _, r in everything])} -> {chosen_factor([r for _, r in everything])}\n"
    )


if __name__ == "__main__":
    main()
