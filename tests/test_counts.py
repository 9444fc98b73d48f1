"""The programmes' count the tracker keeps equals the exact path after any sequence of writes:
random adds, updates, status changes, removals and imports, on SQLite and PostgreSQL; the
totals read it only where it holds (tests/counting.py)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import tracker
from tests.counting import check_database
from tracker.errors import TrackerError
from tracker.model.vocabulary import Confidence
from tracker.service import counts
from tracker.service.database import create_engine
from tracker.service.filters import Filters

COUNTRIES = ("FR", "DE", "IT", "NO", "US")
CHIPS = (("NVIDIA", "H100"), ("NVIDIA", "B300"), ("NVIDIA", None), ("AMD", "MI300X"), ("unknown", None))
STATUSES = ("planned", "under-construction", "operational", "cancelled", "decommissioned", "paused")
QUALIFIERS = ("exact", "at-least", "up-to", "approx")
SOURCE = "https://example.org/counts"


class Writer:
    """Random writes through the library, with the programmes and entries it made."""

    def __init__(self, api: tracker.Tracker, seed: int, folder: Path) -> None:
        self.api = api
        self.random = random.Random(seed)
        self.folder = folder
        # The seeds' entries, Europe's plan and its parts among them.
        self.entries: list[str] = [str(row["id"]) for row in api.list().rows]
        self.programmes: list[str] = ["europe-ai-factories-plan"]
        self.made = 0

    def lot(self) -> dict[str, object]:
        vendor, model = self.random.choice(CHIPS)
        lot: dict[str, object] = {
            "chips": self.random.choice((100, 500, 2000, 8000, 30000)),
            "vendor": vendor,
        }
        if model:
            lot["model"] = model
        if self.random.random() < 0.3:
            lot["qualifier"] = self.random.choice(QUALIFIERS)
        return lot

    def add(self) -> str:
        self.made += 1
        name = f"Site {self.made}"
        options: dict[str, object] = {**self.lot(), "source": SOURCE}
        if self.made == 1 or self.random.random() < 0.2:  # the first a programme
            options |= {"kind": "programme", "power_mw": str(self.random.choice((20, 150)))}
            if self.random.random() < 0.5:
                options["scope"] = "eu"
            else:
                options["country"] = self.random.choice(COUNTRIES)
        else:
            options["country"] = self.random.choice(COUNTRIES[:4])
            if self.random.random() < 0.3:
                options["power_mw"] = "12.5"
        if self.programmes and self.random.random() < 0.6:
            options["parent"] = self.random.choice(self.programmes)
        entry_id = self.api.add(name, **options)  # type: ignore[arg-type]
        self.entries.append(entry_id)
        if options.get("kind") == "programme":
            self.programmes.append(entry_id)
        return f"add {entry_id}"

    def update(self) -> str:
        entry_id = self.random.choice(self.entries)
        choice = self.random.randrange(4)
        if choice == 0:
            options: dict[str, object] = self.lot()
            options["lot"] = self.random.choice((1, 2))  # lot 2 is new the first time
        elif choice == 1:
            parents = [other for other in self.programmes if other != entry_id]
            options = {"parent": self.random.choice(parents) if parents else ""}
        elif choice == 2:
            options = {"power_mw": self.random.choice(("", "30"))}
        else:
            options = {"lot": 1, "status": self.random.choice(STATUSES)}
        self.api.update(entry_id, **options)  # type: ignore[arg-type]
        return f"update {entry_id} {options}"

    def status(self) -> str:
        entry_id = self.random.choice(self.entries)
        status = self.random.choice(STATUSES)
        self.api.status(entry_id, status, on="2026-01-05", source=SOURCE)
        return f"status {entry_id} {status}"

    def remove(self) -> str:
        entry_id = self.random.choice(self.entries)
        self.api.remove(entry_id)
        self.entries.remove(entry_id)
        if entry_id in self.programmes:
            self.programmes.remove(entry_id)
        return f"remove {entry_id}"

    def import_(self) -> str:
        """The database's own export, some lots' chips changed, one entry new, imported over it."""
        exported = self.folder / "export.csv"
        self.api.export(exported)
        with exported.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if row["chips"] and self.random.random() < 0.4:
                row["chips"] = str(self.random.choice((50, 700, 9000)))
        self.made += 1
        new = {**rows[0], "id": f"imported-{self.made}", "name": f"Imported {self.made}", "lot": "1"}
        new |= {"parent": self.random.choice(self.programmes) if self.programmes else ""}
        with exported.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows([*rows, new])
        self.api.import_file(exported, on_conflict="update")
        self.entries.append(new["id"])
        return "import"

    def step(self) -> str:
        if not self.made:
            return self.add()
        action = self.random.choice((self.add, self.add, self.update, self.status, self.remove, self.import_))
        try:
            return action()
        except TrackerError as refused:  # a write the tracker refuses (a cycle of parents): nothing changed
            return f"refused: {refused}"


# Random entries look alike (the same country and chips) and lie outside their programme's
# scope: the tracker warns of both, and stores them.
@pytest.mark.filterwarnings("ignore::tracker.api.base.TrackerWarning")
@pytest.mark.parametrize("seed", range(4))
def test_the_kept_count_equals_the_exact_path_after_random_writes(
    seeded_db_url: str, tmp_path: Path, seed: int
) -> None:
    done = []
    with tracker.open(seeded_db_url) as api:
        writer = Writer(api, seed, tmp_path)
        for _ in range(14):
            done.append(writer.step())
            # Up to date after every write by the tracker, and what the exact path gives.
            assert check_database(seeded_db_url), done
    assert len(writer.programmes) >= 2, "the sequence made no programme to count"


def _session(url: str) -> tuple[sa.Engine, Session]:
    engine = create_engine(url)
    return engine, Session(engine)


def test_the_totals_read_the_kept_count_only_where_it_holds(seeded_db_url: str) -> None:
    engine, session = _session(seeded_db_url)
    try:
        with session:
            # No filter, or filters that only choose which chips to show: the kept count.
            assert counts.counted(session).kept
            assert counts.counted(session, Filters(countries=("FR",))).kept
            # Filters that change which announcements are evidence of a programme's parts:
            # worked out again.
            assert not counts.counted(session, Filters(min_confidence=Confidence.REPORTED)).kept
            assert not counts.counted(session, Filters(as_of=dt.date(2025, 1, 1))).kept
            assert not counts.counted(session, Filters(announced_until=dt.date(2025, 1, 1))).kept
    finally:
        engine.dispose()
    # A write outside the tracker: the count is out of date, so the totals work it out.
    engine = sa.create_engine(seeded_db_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE chip_lot SET quantity = quantity + 1"))
    engine.dispose()
    engine, session = _session(seeded_db_url)
    try:
        with session:
            assert not counts.counted(session).kept
    finally:
        engine.dispose()
    assert not check_database(seeded_db_url)  # out of date: never read
    with tracker.open(seeded_db_url) as api:
        api.update("nebius-uk", note="checked")  # the tracker's next write counts again
    assert check_database(seeded_db_url)
