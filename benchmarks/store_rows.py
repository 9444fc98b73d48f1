"""The database's share of an import, through Python's sqlite3 driver: the rows one import
stored, read beforehand, inserted into a new database of the tracker's schema as the import
inserts them, and the seconds that took printed.

    python benchmarks/store_rows.py IMPORTED.db NEW.db    # NEW.db made by `tracker init --no-seed`

As `tracker import` does into empty tables: one transaction, foreign keys and checks on, the
secondary indexes dropped first and made again at the end, rows handed over by executemany.
No file is read and nothing is checked in Python, so no import through this driver can take
less time.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from contextlib import closing

TABLES = ("source", "entry", "chip_lot", "entry_source")


def main() -> None:
    imported, target = sys.argv[1:3]
    with closing(sqlite3.connect(imported)) as source:
        rows = {table: source.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES}
    with closing(sqlite3.connect(target)) as database:
        known = {row[0] for row in database.execute("SELECT id FROM source")}
    rows["source"] = [row for row in rows["source"] if row[0] not in known]  # the catalogue's own
    database = sqlite3.connect(target, isolation_level=None)
    database.execute("PRAGMA foreign_keys = ON")
    started = time.perf_counter()
    database.execute("BEGIN IMMEDIATE")
    indexes = database.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('entry', 'chip_lot', 'entry_source')"
    ).fetchall()
    for name, _ in indexes:
        database.execute(f'DROP INDEX "{name}"')
    for table in TABLES:
        if rows[table]:
            marks = ", ".join("?" * len(rows[table][0]))
            database.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[table])
    for _, sql in indexes:
        database.execute(sql)
    database.execute("COMMIT")
    print(f"{time.perf_counter() - started:.3f}")


if __name__ == "__main__":
    main()
