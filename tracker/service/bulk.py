"""Bulk SQL for imports: rows inserted through the driver's executemany, ids looked up in
chunks, stored entries read and locked by the batch."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.tables import ChipLot, Entry, EntryChange, EntrySource, Source, StatusEvent
from tracker.service.database import insert_new
from tracker.service.export import export_rows
from tracker.service.filters import Filters

PARAMETERS_PER_QUERY = 900  # ids in one IN (...), well inside every database's limit
ROWS_PER_STATEMENT = 200  # rows inserted by one statement on SQLite (within its limit of parameters)
# The tables themselves, for Core bulk statements.
ENTRY_TABLE = cast(sa.Table, Entry.__table__)
LOT_TABLE = cast(sa.Table, ChipLot.__table__)
LINK_TABLE = cast(sa.Table, EntrySource.__table__)
SOURCE_TABLE = cast(sa.Table, Source.__table__)
EVENT_TABLE = cast(sa.Table, StatusEvent.__table__)
CHANGE_TABLE = cast(sa.Table, EntryChange.__table__)


def drop_indexes_of_empty_tables(session: Session) -> list[str]:
    """On SQLite, drop the secondary indexes of the tables an import fills, which are empty
    (no entry is stored); returns the statements that make them again, run once the rows are in.

    Making an index once costs less than keeping it in order row by row (about a second of
    a million lots). The drops are part of the import's transaction, undone with it if it is
    rolled back or killed; other connections see the indexes throughout. Not on PostgreSQL,
    where dropping an index would lock the table against readers until the import ends.
    """
    if session.get_bind().dialect.name != "sqlite":
        return []
    query = sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('entry', 'chip_lot', 'entry_source') ORDER BY name"
    )
    indexes = session.execute(query).all()
    for index_name, _ in indexes:
        session.execute(sa.text(f'DROP INDEX "{index_name}"'))
    return [sql for _, sql in indexes]


def insert_rows(
    session: Session,
    statement: sa.Insert,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
    *,
    same: Mapping[str, object] | None = None,
) -> None:
    """Insert rows given as tuples in ``columns`` order, with the values ``same`` for every
    row (in place of any the rows give), through the driver's executemany.

    Each value is converted as its column's type has it for the database (a date is text
    on SQLite), a column at a time, and a value every row shares only once: SQLAlchemy's
    handling of each row's parameters costs more than the database's inserting them.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    same = same or {}
    given = list(dict.fromkeys([*columns, *same]))
    compiled = statement.compile(dialect=dialect, column_keys=given)
    names = list(compiled.positiontup or ()) if compiled.positional else given
    converters = {
        name: statement.table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    }
    if not same and names == list(columns) and not any(converters.values()):
        # The rows are the parameters as they are (lots and links on SQLite): not taken apart.
        ordered: Sequence[tuple[object, ...]] = rows
    else:
        by_column = dict(zip(columns, zip(*rows, strict=True), strict=True))

        def values(name: str) -> Iterable[object]:
            convert = converters[name]
            if name in same:
                return itertools.repeat(same[name] if convert is None else convert(same[name]), len(rows))
            return by_column[name] if convert is None else map(convert, by_column[name])

        ordered = list(zip(*(values(name) for name in names), strict=True))
    if dialect.name == "sqlite":
        _insert_sqlite(connection, str(compiled), len(names), ordered)
    elif compiled.positional:
        connection.exec_driver_sql(str(compiled), ordered)
    else:
        connection.exec_driver_sql(str(compiled), [dict(zip(names, row, strict=True)) for row in ordered])


def _insert_sqlite(
    connection: sa.Connection, sql: str, width: int, rows: Sequence[tuple[object, ...]]
) -> None:
    """Insert rows on SQLite many to a statement (``VALUES (...), (...)``), not one each.

    An import runs within a savepoint (:func:`~tracker.service.imports.import_file`), under
    which SQLite keeps, for every statement, the pages it changes in a journal of their own
    until it ends: a statement a row costs twice the time of the inserting itself.
    """
    group = "(" + ", ".join(["?"] * width) + ")"
    at = sql.find(f" VALUES {group}")
    # SQLite's limit of parameters to a statement, where Python tells it (3.11), else its least.
    getlimit = getattr(connection.connection.driver_connection, "getlimit", None)
    limit = getattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER", None)
    most = getlimit(limit) if getlimit is not None and limit is not None else 999
    per = min(ROWS_PER_STATEMENT, most // width)
    if at < 0 or sql.count(group) != 1 or per < 2 or len(rows) < 2:
        connection.exec_driver_sql(sql, rows)
        return
    head, tail = sql[: at + len(" VALUES ")], sql[at + len(" VALUES ") + len(group) :]
    whole = head + ", ".join([group] * per) + tail
    for start in range(0, len(rows), per):
        some = rows[start : start + per]
        statement = whole if len(some) == per else head + ", ".join([group] * len(some)) + tail
        connection.exec_driver_sql(statement, tuple(itertools.chain.from_iterable(some)))


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), PARAMETERS_PER_QUERY):
        yield items[start : start + PARAMETERS_PER_QUERY]


def lock_stored(session: Session, ids: Sequence[str]) -> None:
    """Lock the stored entries an import compares with the file until it ends (PostgreSQL's
    FOR UPDATE, in id order so that two writers never wait on each other), so that what it
    records of their history follows from what was stored; SQLite's write lock does already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for chunk in chunks(sorted(ids)):
        session.execute(sa.select(Entry.id).where(Entry.id.in_(chunk)).order_by(Entry.id).with_for_update())


def stored_rows(session: Session, ids: Sequence[str]) -> dict[str, list[list[str]]]:
    """The export rows of these stored entries."""
    stored: dict[str, list[list[str]]] = {}
    for chunk in chunks(ids):
        for row in export_rows(session, Filters(), ids=chunk):
            stored.setdefault(row[0], []).append(row)
    return stored


def source_ids(session: Session, references: Sequence[str], added: set[str]) -> dict[str, int]:
    """The ids of these sources, adding those not stored yet to the database and to ``added``
    (another import adding the same source at the same moment is no conflict)."""
    found = stored_source_ids(session, references)
    missing = [reference for reference in references if reference not in found]
    added.update(missing)
    if missing:
        statement = insert_new(session, SOURCE_TABLE, "reference")
        insert_rows(session, statement, ("reference",), [(reference,) for reference in missing])
        found.update(stored_source_ids(session, missing))
    return found


def stored_source_ids(session: Session, references: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(references):
        query = sa.select(Source.reference, Source.id).where(Source.reference.in_(chunk))
        found.update((reference, source_id) for reference, source_id in session.execute(query))
    return found
