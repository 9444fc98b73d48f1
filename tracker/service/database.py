"""Opening the database, building and upgrading its schema.

The schema is only ever built by Alembic's ``upgrade head``; the migrations live
in the repository's ``db/`` folder, installed as ``tracker.migrations``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from tracker.errors import DatabaseUnavailable, SchemaError

# The newest migration in db/versions; tests/test_schema.py checks they agree.
SCHEMA_REVISION = "0001"
URL_ENV = "TRACKER_DATABASE_URL"
DATA_DIR_ENV = "TRACKER_DATA_DIR"
SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tracker_writes"
# pg_advisory_xact_lock key that serialises schema creation and upgrades on PostgreSQL.
SCHEMA_LOCK_KEY = 0x7472_6163_6B65_72  # "tracker"


def data_dir() -> Path:
    """The user's tracker folder: TRACKER_DATA_DIR, or the platform's user data directory."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return platformdirs.user_data_path("tracker", appauthor=False)


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'tracker.db'}"


def resolve_url(url: str | None) -> str:
    """The database to use: the one given, else TRACKER_DATABASE_URL, else the default."""
    return url or os.environ.get(URL_ENV) or default_url()


def safe_url(url: str | URL) -> str:
    """The URL as it may be shown to a person: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):  # an unparsable URL may hold a password: show none
        return "<unreadable database URL>"


def create_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL, set up for the tracker's needs.

    SQLite gets foreign keys, WAL and a busy timeout; a bare ``postgresql://`` URL
    uses psycopg 3, the driver of the ``postgres`` extra.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise DatabaseUnavailable(
            "database URL is not a valid SQLAlchemy URL, such as sqlite:///tracker.db "
            "or postgresql://user@host/dbname"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    try:
        return sa.create_engine(parsed, pool_pre_ping=False)
    except ModuleNotFoundError as error:
        raise DatabaseUnavailable(
            f"the driver for {parsed.drivername} is not installed ({error.name}); "
            "for PostgreSQL install the extra: pip install 'sovereign-ai-tracker[postgres]'"
        ) from None


def _sqlite_engine(url: URL) -> Engine:
    path = url.database
    if path and path != ":memory:" and not path.startswith("file:"):
        folder = Path(path).expanduser().resolve().parent
        if not folder.is_dir():
            raise DatabaseUnavailable(f"cannot open SQLite database {path}: folder {folder} does not exist")
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    in_memory = not path or path == ":memory:"

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, open transactions, so that schema
        # changes are transactional too (the SQLAlchemy documentation's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and
        # then writes fails at once with "database is locked" under WAL, busy timeout or not.
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _alembic_config(connection: sa.Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(importlib.resources.files("tracker.migrations")))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def head_revision() -> str:
    """The newest migration this tracker knows (a test keeps SCHEMA_REVISION equal to it)."""
    return SCHEMA_REVISION


def current_revision(connection: sa.Connection) -> str | None:
    """The migration the database is at, or None for a database without the schema.

    Read with plain SQL: importing Alembic costs more than the rest of a command.
    """
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    revisions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    if len(revisions) != 1:
        raise SchemaError(f"the database has {len(revisions)} schema revisions; expected one")
    return str(revisions[0])


def migration_head() -> str:
    """The head revision according to the migration scripts themselves."""
    head = _script_directory().get_current_head()
    assert head is not None
    return str(head)


def upgrade(connection: sa.Connection) -> None:
    """Bring the schema to the newest revision (creating it in an empty database)."""
    from alembic import command

    command.upgrade(_alembic_config(connection), "head")


def schema_state(connection: sa.Connection) -> str:
    """``"current"``, ``"empty"`` (no tables at all) or ``"outdated"``.

    Raises :class:`SchemaError` for a database that holds other tables, or whose
    schema is newer than this tracker.
    """
    revision = current_revision(connection)
    head = head_revision()
    if revision == head:
        return "current"
    if revision is None:
        tables = sa.inspect(connection).get_table_names()
        if tables:
            raise SchemaError(
                f"the database {safe_url(connection.engine.url)} holds other tables "
                f"({', '.join(sorted(tables)[:5])}) and no tracker schema; "
                "point --db at an empty database or a tracker database"
            )
        return "empty"
    known = {script.revision for script in _script_directory().walk_revisions()}
    if revision in known:
        return "outdated"
    raise SchemaError(
        f"the database schema is at revision {revision}, which this tracker does not know; "
        "it was made by a newer version: upgrade the tracker"
    )


@contextlib.contextmanager
def connect(engine: Engine) -> Iterator[sa.Connection]:
    """A connection, with connection failures turned into one clear message."""
    try:
        connection = engine.connect()
    except sa.exc.OperationalError as error:
        raise DatabaseUnavailable(describe_failure(engine, error)) from None
    with connection:
        yield connection


def for_writing(engine: Engine) -> Engine:
    """The engine, set so that its transactions take the write lock when they begin."""
    return engine.execution_options(**{WRITE_OPTION: True})


def lock_schema(connection: sa.Connection) -> None:
    """Keep other processes from creating or upgrading the schema until this transaction ends.

    On SQLite the write transaction (:func:`for_writing`) already does.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))


@contextlib.contextmanager
def session_scope(engine: Engine, *, writes: bool = False) -> Iterator[Session]:
    """A session whose work is committed at the end, or rolled back on any error.

    ``writes`` says the session will write, so that it waits its turn on SQLite.
    """
    with Session(for_writing(engine) if writes else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def bytewise(session: Session, column: Any) -> Any:
    """Order by a text column's bytes on every database, so that output does not depend on
    the server's locale (PostgreSQL's default collation ignores hyphens, for one)."""
    return column.collate("C") if session.get_bind().dialect.name == "postgresql" else column


def describe_failure(engine: Engine, error: BaseException) -> str:
    """One line about a database failure, naming the database but never its password."""
    return describe_database_error(engine.url.render_as_string(hide_password=False), error)


def describe_database_error(url: str | None, error: BaseException) -> str:
    """One line about a database failure, naming the database but never its password."""
    original = getattr(error, "orig", None) or error
    detail = " ".join(str(original).split()) or type(original).__name__
    resolved = resolve_url(url)
    with contextlib.suppress(Exception):
        password = make_url(resolved).password
        if password:
            detail = detail.replace(str(password), "***")
    return f"database {safe_url(resolved)}: {detail}"
