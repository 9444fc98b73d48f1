"""The benchmark's references compute what the tracker prints: docs/benchmarks.md compares
the tracker with them, so a reference that did less would flatter it. On a database without
programmes (the reference counts a programme's lots as they are), the summary's reference
query gives the summary's rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

import tracker

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_run", module)
    spec.loader.exec_module(module)
    return module


def _one(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@pytest.mark.filterwarnings("ignore::tracker.api.base.TrackerWarning")
def test_the_summarys_reference_query_gives_the_summarys_rows(db_url: str) -> None:
    bench = _bench()
    adds = [
        ("FR one", "FR", 8000, "NVIDIA", "B300", "exact", None, "planned"),
        ("FR two", "FR", 2000, "NVIDIA", "H100", "at-least", "30", "operational"),
        ("FR three", "FR", 500, "AMD", "MI300X", "approx", None, "planned"),
        ("DE one", "DE", 1200, "NVIDIA", None, "up-to", "12.5", "planned"),
        ("DE gone", "DE", 900, "NVIDIA", "H100", "exact", None, "cancelled"),
        ("US one", "US", 100000, "unknown", None, "exact", None, "announced"),
    ]
    with tracker.open(db_url) as api:
        for name, country, chips, vendor, model, qualifier, power, status in adds:
            options: dict[str, object] = {"country": country, "chips": chips, "vendor": vendor}
            options |= {"qualifier": qualifier, "status": status, "source": "https://example.org/b"}
            if model:
                options["model"] = model
            if power:
                options["power_mw"] = power
            api.add(name, **options)  # type: ignore[arg-type]
        # A second lot of another model, in an entry with reported power: shared by chips.
        api.update("fr-two", lot=2, chips=1000, vendor="NVIDIA", model="B300")
        rows = api.summary(by=["country", "vendor"]).rows
    tracked = {
        (row["country"], row["vendor"]): (
            row["entries"],
            row["chips"],
            row["qualifier"],
            _one(row["h100e"]),
            row["h100e_chips"],
            _one(row["power_mw"]),
            _one(row["power_mw_estimated"]),
            row["power_chips"],
        )
        for row in rows
    }
    postgres = db_url.startswith("postgresql")
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                sa.text(bench.SUMMARY_SQL_POSTGRES if postgres else bench.SUMMARY_SQL)
            ).all()
    finally:
        engine.dispose()
    qualifiers = {0: "exact", 1: "approx", 2: "at-least", 4: "up-to"}
    referenced = {
        (country, vendor): (
            entries,
            int(chips),
            qualifiers[int(bits)],  # each group here holds one qualifier
            _one(h100e),
            int(h100e_chips),
            _one(power),
            # SQL sums no estimate to NULL; the summary gives 0.0 beside a power reported.
            _one(estimated if power is None else estimated or 0),
            int(power_chips),
        )
        for country, vendor, entries, chips, bits, h100e, h100e_chips, power, estimated, power_chips in found
    }
    assert referenced == tracked
    # The reference leaves out cancelled lots as the summary does: Germany's NVIDIA chips are
    # the 1,200 planned, not the 900 cancelled.
    assert tracked[("DE", "NVIDIA")][1] == 1200
