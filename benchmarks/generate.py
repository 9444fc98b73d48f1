"""A synthetic tracker database, the same for the same arguments, for benchmarks.

    python benchmarks/generate.py --db /tmp/bench.db      # 300,000 entries, 1,000,000 lots
    python benchmarks/generate.py --db postgresql+psycopg://postgres@127.0.0.1/bench --entries 3000 \
        --lots 10000

Countries, vendors, models, statuses, periods, programmes and reported power come in rough
proportions of the public announcements (many NVIDIA H100 and Blackwell lots in the United
States and China, a long tail elsewhere). The database is created with ``tracker init
--no-seed`` and must be empty; rows are written with bulk inserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.tables import ChipLot, Entry, EntrySource, Source
from tracker.service.bootstrap import initialise
from tracker.service.counts import recount
from tracker.service.database import create_engine

COUNTRIES = {
    "US": 30, "CN": 18, "GB": 5, "DE": 5, "FR": 5, "JP": 5, "KR": 4, "IN": 4, "SA": 3, "AE": 3, "CA": 2,
    "SG": 2, "NL": 1, "SE": 1, "NO": 1, "FI": 1, "ES": 1, "IT": 1, "PL": 1, "CH": 1, "AU": 1, "BR": 1,
    "TW": 1, "IL": 1, "QA": 1,
}  # fmt: skip
MODELS = {
    ("NVIDIA", "H100"): 25, ("NVIDIA", "H200"): 10, ("NVIDIA", "B200"): 12, ("NVIDIA", "GB200"): 12,
    ("NVIDIA", "B300"): 5, ("NVIDIA", "GB300"): 5, ("NVIDIA", "A100"): 8, ("NVIDIA", None): 6,
    ("AMD", "MI300X"): 5, ("AMD", "MI325X"): 2, ("Google", "TPU v5p"): 2, ("Google", "TPU v6e"): 2,
    ("Huawei", "Ascend 910B"): 2, ("Huawei", "Ascend 910C"): 1, ("Intel", "Gaudi 3"): 1, ("unknown", None): 2,
}  # fmt: skip
STATUSES = {
    "announced": 30, "planned": 20, "under-construction": 15, "operational": 28, "paused": 3, "cancelled": 3,
    "decommissioned": 1,
}  # fmt: skip
PRECISIONS = {"day": 5, "month": 15, "quarter": 40, "half": 10, "year": 20, None: 10}
KINDS = {"factory": 40, "gigafactory": 5, "supercomputer": 20, "cloud-region": 35}
SPONSORS = {"sovereign": 20, "public-private": 15, "private": 50, None: 15}
CONFIDENCES = {"confirmed": 50, "reported": 35, "rumoured": 10, None: 5}
QUANTITIES = {
    8: 10,
    16: 10,
    64: 15,
    128: 15,
    256: 15,
    512: 12,
    1024: 10,
    2048: 6,
    4096: 4,
    10000: 2,
    25000: 1,
}
LOTS_PER_ENTRY = {1: 40, 2: 20, 3: 15, 5: 10, 8: 10, 12: 5}
SCOPES = ("europe", "eu", "asia", "gcc", "north-america")
BATCH = 20_000


def pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def period(rng: random.Random) -> tuple[dt.date | None, str | None]:
    precision = pick(rng, PRECISIONS)
    year = rng.randint(2023, 2029)
    if precision is None:
        return None, None
    month = {"day": rng.randint(1, 12), "month": rng.randint(1, 12), "quarter": rng.choice((1, 4, 7, 10)),
             "half": rng.choice((1, 7)), "year": 1}[precision]  # fmt: skip
    return dt.date(year, month, rng.randint(1, 28) if precision == "day" else 1), precision


def lot_counts(rng: random.Random, entries: int, lots: int) -> list[int]:
    """How many lots each entry has, ``lots`` in all, at least one each: drawn, then evened
    out one lot at a time across the entries."""
    counts = [pick(rng, LOTS_PER_ENTRY) for _ in range(entries)]
    excess, index = sum(counts) - lots, 0
    while excess:
        if excess > 0 and counts[index] > 1:
            counts[index] -= 1
            excess -= 1
        elif excess < 0:
            counts[index] += 1
            excess += 1
        index = (index + 1) % entries
    return counts


def entry_rows(rng: random.Random, entries: int, programmes: int) -> Iterator[dict[str, Any]]:
    created = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for number in range(entries):
        is_programme = number < programmes
        scoped = is_programme and number % 3 == 0
        start, precision = period(rng)
        parent = None
        if not is_programme and programmes and rng.random() < 0.03:
            parent = f"e{rng.randrange(programmes):07d}"
        yield {
            "id": f"e{number:07d}",
            "name": f"Synthetic site {number}",
            "operator": f"Operator {rng.randrange(5000)}",
            "country": None if scoped else pick(rng, COUNTRIES),
            "scope": rng.choice(SCOPES) if scoped else None,
            "city": None,
            "kind": "programme" if is_programme else pick(rng, KINDS),
            "sponsor": pick(rng, SPONSORS),
            "status": pick(rng, STATUSES),
            "confidence": pick(rng, CONFIDENCES),
            "announced_on": dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(1400)),
            "online_start": start,
            "online_precision": precision,
            "power_mw": round(rng.uniform(5, 1500), 1) if rng.random() < 0.3 else None,
            "parent_id": parent,
            "notes": None,
            "created_at": created,
            "updated_at": created,
        }


def lot_rows(rng: random.Random, counts: Sequence[int]) -> Iterator[dict[str, Any]]:
    for number, count in enumerate(counts):
        for lot in range(1, count + 1):
            vendor, model = pick(rng, MODELS)
            yield {
                "entry_id": f"e{number:07d}",
                "lot": lot,
                "vendor": vendor,
                "model": model,
                "quantity": pick(rng, QUANTITIES),
                "qualifier": "at-least" if rng.random() < 0.02 else "exact",
            }


def insert(connection: sa.Connection, table: sa.Table, rows: Iterator[dict[str, Any]]) -> int:
    written = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            connection.execute(sa.insert(table), batch)
            written, batch = written + len(batch), []
    if batch:
        connection.execute(sa.insert(table), batch)
        written += len(batch)
    return written


def generate(url: str, entries: int, lots: int, seed: int) -> None:
    if lots < entries:
        raise SystemExit("--lots must be at least --entries: every entry has a lot")
    engine = create_engine(url)
    initialise(engine, seed_entries=False)
    rng = random.Random(seed)
    counts = lot_counts(rng, entries, lots)
    programmes = max(1, entries // 1000)
    with engine.begin() as connection:
        if connection.execute(sa.select(sa.func.count()).select_from(Entry)).scalar_one():
            raise SystemExit(f"{url} already holds entries; give a new database")
        written = insert(connection, Entry.__table__, entry_rows(rng, entries, programmes))
        written_lots = insert(connection, ChipLot.__table__, lot_rows(rng, counts))
        first = (connection.execute(sa.select(sa.func.max(Source.id))).scalar_one() or 0) + 1
        sources = [
            {"id": first + n, "reference": f"https://example.org/source/{n}"}
            for n in range(max(1, entries // 10))
        ]
        connection.execute(sa.insert(Source.__table__), sources)
        if connection.dialect.name == "postgresql":  # ids given: the next source's comes after them
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('source', 'id'), max(id)) FROM source"
            )
        links = ({"entry_id": f"e{n:07d}", "source_id": first + n % len(sources)} for n in range(entries))
        insert(connection, EntrySource.__table__, links)
        with Session(bind=connection) as session:  # the programmes' count, for the SQL views
            recount(session)
    engine.dispose()
    print(f"{written:,} entries, {written_lots:,} chip lots, {programmes:,} programmes in {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="A new SQLite file or an empty database's URL.")
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026, help="The same seed gives the same database.")
    arguments = parser.parse_args()
    generate(arguments.db, arguments.entries, arguments.lots, arguments.seed)


if __name__ == "__main__":
    main()
