"""Opening the database: engines, sessions that wait their turn to write, and failures told
in one line without a password."""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from tracker.errors import DatabaseUnavailable, InvalidValue
from tracker.service.urls import parse_database_url, resolve_url, safe_url, secrets

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tracker_writes"
# pg_advisory_xact_lock key that has writers on PostgreSQL take turns with imports, which work
# alone as every writer does under SQLite's write lock.
WRITERS_LOCK_KEY = 0x7472_6163_6B69_6D  # "trackim"


def create_engine(url: str) -> Engine:
    """An engine for a database URL or SQLite path (see :func:`parse_database_url`).

    SQLite gets foreign keys, WAL and a busy timeout.
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    try:
        return sa.create_engine(parsed)
    except ModuleNotFoundError as error:
        hint = (
            " (pip install 'sovereign-ai-tracker[postgres]')"
            if parsed.get_backend_name() == "postgresql"
            else ""
        )
        raise DatabaseUnavailable(
            f"the {parsed.get_backend_name()} driver {error.name} is not installed{hint}"
        ) from None


def _sqlite_engine(url: URL) -> Engine:
    path = url.database
    read_only_in: Path | None = None  # the folder, when it keeps the database from being written
    if path and path != ":memory:":
        file = Path(path).expanduser().resolve()
        if not file.parent.is_dir():
            raise DatabaseUnavailable(
                f"cannot open SQLite database {path}: folder {file.parent} does not exist"
            )
        if file.is_dir():
            raise DatabaseUnavailable(f"cannot open SQLite database {path}: it is a folder")
        if not os.access(file.parent, os.W_OK):
            # SQLite writes beside the database: a new file, and the WAL of an existing one.
            if not file.exists():
                raise DatabaseUnavailable(
                    f"cannot use SQLite database {path}: folder {file.parent} is not writable"
                )
            read_only_in = file.parent
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    in_memory = not path or path == ":memory:"

    if read_only_in is not None:
        database_file = Path(str(path)).expanduser().resolve()

        @event.listens_for(engine, "do_connect")
        def _read_only(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
            cargs[:] = [_read_only_uri(database_file)]
            cparams["uri"] = True

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, open transactions, so that schema
        # changes are transactional too (the SQLAlchemy documentation's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory and read_only_in is None:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and
        # then writes fails at once with "database is locked" under WAL, busy timeout or not.
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        if writes and read_only_in is not None:
            raise DatabaseUnavailable(
                f"cannot write SQLite database {path}: its folder {read_only_in} is not writable "
                "(commands that only read work)"
            )
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _read_only_uri(file: Path) -> str:
    """How to open a database whose folder cannot be written, for reading only.

    SQLite reads a WAL database through its -wal and -shm files, and when they are absent
    (the last connection removed them) it must create them, which the folder forbids: the
    database is then opened ``immutable``, as the file alone holds every committed change.
    When they are present, a writer is at work or was killed, and the -wal file holds
    changes the database file does not: it is read through them (SQLite 3.22 or later,
    https://www.sqlite.org/wal.html#readonly).
    """
    uri = f"file:{urllib.parse.quote(str(file))}?mode=ro"
    beside = [file.with_name(file.name + suffix) for suffix in ("-wal", "-journal")]
    return uri if any(companion.exists() for companion in beside) else uri + "&immutable=1"


@contextlib.contextmanager
def connect(engine: Engine) -> Iterator[sa.Connection]:
    """A connection, with connection failures turned into one clear message."""
    try:
        connection = engine.connect()
    except sa.exc.OperationalError as error:
        raise DatabaseUnavailable(
            describe_database_error(engine.url.render_as_string(hide_password=False), error)
        ) from None
    with connection:
        yield connection


def for_writing(engine: Engine) -> Engine:
    """The engine, set so that its transactions take the write lock when they begin."""
    return engine.execution_options(**{WRITE_OPTION: True})


def one_import_at_a_time(session: Session) -> None:
    """Wait until no other writer is at work before an import reads what is stored, and keep
    every other writer waiting until it ends (PostgreSQL; a session opened ``alone`` by
    :func:`session_scope` does so from its start).

    An import reads which ids are stored, then inserts the others in bulk: an entry added
    meanwhile by another command would make it fail on a duplicate key, half way. On SQLite
    the write transaction already keeps every other writer waiting.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(WRITERS_LOCK_KEY)))


def take_turn(session: Session, *, alone: bool) -> None:
    """On PostgreSQL, wait for the writers that must work alone (imports) to end; ``alone``:
    wait for every other writer, and keep them waiting until this transaction ends. (Every
    writer then takes the programmes' count in turn, :func:`tracker.service.counts.hold`, so
    that writers commit one after the other.) SQLite's write lock makes every writer work
    alone already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = sa.func.pg_advisory_xact_lock if alone else sa.func.pg_advisory_xact_lock_shared
    session.execute(sa.select(lock(WRITERS_LOCK_KEY)))


@contextlib.contextmanager
def session_scope(engine: Engine, *, writes: bool = False, alone: bool = False) -> Iterator[Session]:
    """A session whose work is committed at the end, or rolled back on any error.

    ``writes`` says the session will write, so that it waits its turn: on SQLite for the
    write lock, on PostgreSQL for any import at work (:func:`take_turn`); ``alone`` (an
    import) that it waits for every other writer, and keeps them waiting. A session
    that only reads sees the database as it stood when it began, in every statement: a
    report reads in several, and a commit between two of them would count chips once, twice
    or not at all. SQLite's transactions do so already; PostgreSQL's, from REPEATABLE READ.

    A write counts the programmes again before it commits, where it changed what they count
    (:func:`tracker.service.counts.recount`), so that the database's views stay right.
    """
    if not writes and engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    from tracker.service import counts  # here: it reads the programmes' coverage

    with Session(for_writing(engine) if writes else engine, expire_on_commit=False) as session:
        try:
            if writes or alone:
                take_turn(session, alone=alone)
                counts.hold(session)
            yield session
            if writes or alone:
                counts.recount(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise


def bytewise(session: Session, column: Any) -> Any:
    """Order by a text column's bytes on every database, so that output does not depend on
    the server's locale (PostgreSQL's default collation ignores hyphens, for one)."""
    return column.collate("C") if session.get_bind().dialect.name == "postgresql" else column


def insert_new(session: Session, table: Any, key: str) -> Any:
    """An INSERT that leaves out rows whose ``key`` is stored already, by another writer too,
    even one that has not committed yet (it waits for it): no duplicate-key failure."""
    from sqlalchemy.dialects import postgresql, sqlite  # here: only some writes need them

    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=[key])


def describe_database_error(url: str | None, error: BaseException) -> str:
    """One line about a database failure, naming the database but never its password."""
    resolved = resolve_url(url)
    return f"database {safe_url(resolved)}: {error_detail(resolved, error)}"


def error_detail(url: str | URL, error: BaseException) -> str:
    """What went wrong, on one line, without the password of the database at ``url``."""
    original = getattr(error, "orig", None) or error
    detail = " ".join(str(original).split()) or type(original).__name__
    try:
        parsed = parse_database_url(url) if isinstance(url, str) else url
    except InvalidValue:
        return detail
    for secret in secrets(parsed):
        detail = detail.replace(secret, "***")
    folder = _full_disk_folder(parsed, original)
    if folder is not None:
        return f"the disk is full: no room for the database's files in {folder} ({detail}); free some space"
    return detail


SQLITE_IOERR = 10
SQLITE_FULL = 13
SQLITE_IOERR_SHMSIZE = SQLITE_IOERR | (19 << 8)  # could not make room for the -shm file
ROOM_SQLITE_NEEDS = 1 << 20  # less free space than this, and an I/O error means a full disk


def _full_disk_folder(url: URL, original: BaseException) -> Path | None:
    """The folder of an SQLite database that failed for want of room on its disk, or None.

    SQLite says so itself with SQLITE_FULL, and with SQLITE_IOERR_SHMSIZE when it cannot
    grow the -shm file it needs before the WAL exists; Python's driver does not give the
    errno behind another I/O error, so for those the disk's free space tells.
    """
    code = getattr(original, "sqlite_errorcode", None)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if code is None or code & 0xFF not in (SQLITE_IOERR, SQLITE_FULL):
        return None
    folder = Path(url.database).expanduser().resolve().parent
    if code in (SQLITE_FULL, SQLITE_IOERR_SHMSIZE):
        return folder
    try:
        disk = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs on Windows
        return None
    free = disk.f_bfree if _is_root() else disk.f_bavail  # root may use the reserved blocks
    return folder if free * disk.f_frsize < ROOM_SQLITE_NEEDS else None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# SQLite's primary result codes that tell of the database's state or its machine, not of
# what was asked: BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN.
_SQLITE_UNAVAILABLE = frozenset({5, 6, 7, 8, 10, 11, 13, 14})


def is_unavailable(error: BaseException) -> bool:
    """Whether a failure comes from the database being unreachable, locked, read-only or out
    of room, rather than from the statement run."""
    if not isinstance(error, sa.exc.OperationalError):
        return False
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is None or code & 0xFF in _SQLITE_UNAVAILABLE
