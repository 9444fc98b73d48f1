"""Opening the database, building and upgrading its schema.

The schema is only ever built by Alembic's ``upgrade head``; the migrations live
in the repository's ``db/`` folder, installed as ``tracker.migrations``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from tracker.errors import DatabaseUnavailable, InvalidValue, SchemaError


def _newest_migration() -> str:
    """The newest migration's revision, from the names of the files in db/versions
    (``0007_...py``): read without Alembic, which costs more to import than a command's
    work. tests/test_schema.py checks that Alembic's head agrees."""
    versions = importlib.resources.files("tracker.migrations").joinpath("versions")
    return max(
        entry.name[:4]
        for entry in versions.iterdir()
        if entry.name[:4].isdigit() and entry.name.endswith(".py")
    )


SCHEMA_REVISION = _newest_migration()
URL_ENV = "TRACKER_DATABASE_URL"
DATA_DIR_ENV = "TRACKER_DATA_DIR"
SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tracker_writes"
# pg_advisory_xact_lock key that serialises schema creation and upgrades on PostgreSQL.
SCHEMA_LOCK_KEY = 0x7472_6163_6B65_72  # "tracker"
# ...and the one that has writers on PostgreSQL take turns with imports, which work alone as
# every writer does under SQLite's write lock.
WRITERS_LOCK_KEY = 0x7472_6163_6B69_6D  # "trackim"


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


def _is_secret(key: str) -> bool:
    return "password" in key.lower() or "secret" in key.lower()


def _secrets(url: URL) -> list[str]:
    """The secret values a URL carries: its password and any password in its query."""
    values = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if _is_secret(key):
            values.extend([value] if isinstance(value, str) else list(value))
    return [value for value in values if value]


def safe_url(url: str | URL) -> str:
    """The URL as it may be shown to a person: never with a password, in any of its parts."""
    try:
        parsed = parse_database_url(url) if isinstance(url, str) else url
    except InvalidValue:
        return "<unreadable database URL>"
    hidden = "HIDDEN"
    query = {key: (hidden if _is_secret(key) else value) for key, value in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True).replace(hidden, "***")


def parse_database_url(text: str) -> URL:
    """A database given as any SQLAlchemy URL, or as a plain path to an SQLite file.

    A bare ``postgresql://`` URL gets psycopg 3, the driver of the ``postgres`` extra.
    Raises :class:`InvalidValue` (field ``db``) without repeating the text, which may
    hold a password.
    """
    if not text.strip():
        raise InvalidValue("db", "is empty; give a database URL or an SQLite file path")
    if "://" not in text:
        if text.startswith("file:"):
            raise InvalidValue("db", _URI_FILENAME)
        path = str(Path(text).expanduser())
        # ./file:x.db names a file; written file:x.db, it would read as a URI filename.
        return URL.create("sqlite", database=os.path.join(".", path) if path.startswith("file:") else path)
    accepted = "use sqlite:///FILE, a file path, or postgresql://USER@HOST/DBNAME"
    try:
        url = make_url(text)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        raise InvalidValue("db", f"is not a database URL; {accepted}") from None
    if url.get_backend_name() == "sqlite":
        _refuse_sqlite_uri(url)
    if url.host and "@" in url.host:
        # The password ends at its first '@': the rest of it would be taken for the host,
        # and shown as such in every message that names the database.
        raise InvalidValue(
            "db",
            "holds more than one '@' before the host: write an '@' in the password as %40 "
            "(percent-encode its special characters)",
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    try:
        url.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise InvalidValue("db", f"unknown kind of database {url.drivername!r}; {accepted}") from None
    return url


_URI_FILENAME = (
    "is an SQLite URI filename, which the tracker does not take; give the database file's path "
    "(./file:NAME for a file whose name starts with file:) or sqlite:///PATH"
)
# The query options of an SQLite URL that Python's driver itself takes (SQLAlchemy ignores others).
_SQLITE_DRIVER_OPTIONS = frozenset(
    {"timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements"}
)


def _refuse_sqlite_uri(url: URL) -> None:
    """Refuse what would open a database other than the file named, or not as asked: an SQLite
    URI filename (``file:x.db?mode=ro``, which SQLAlchemy takes with ``uri=true`` and otherwise
    creates a file of that name) and URI options, which are ignored without ``uri=true``.

    A database in a read-only folder is read without them (:func:`_sqlite_engine`).
    """
    if (url.database or "").startswith("file:") or "uri" in url.query:
        raise InvalidValue("db", _URI_FILENAME)
    for option in url.query:
        if option not in _SQLITE_DRIVER_OPTIONS:
            raise InvalidValue(
                "db",
                f"SQLite's driver takes no option {option!r} (an SQLite URI filename's options are "
                "not taken); give sqlite:///PATH or a path",
            )


def is_in_memory(url: str) -> bool:
    """Whether ``url`` names an SQLite database held in memory, gone when the command ends."""
    parsed = parse_database_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


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


def migration_revisions() -> set[str]:
    """Every revision the migration scripts know."""
    return {script.revision for script in _script_directory().walk_revisions()}


def migration_head() -> str:
    """The head revision according to the migration scripts themselves."""
    head = _script_directory().get_current_head()
    assert head is not None
    return str(head)


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Bring the schema to the newest revision, or to ``revision`` (creating it in an empty
    database)."""
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


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
    if revision in migration_revisions():
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
        raise DatabaseUnavailable(
            describe_database_error(engine.url.render_as_string(hide_password=False), error)
        ) from None
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
    wait for every other writer, and keep them waiting until this transaction ends. Writers
    that are not alone work side by side, each locking the rows it changes. SQLite's write
    lock makes every writer work alone already."""
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
    """
    if not writes and engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(for_writing(engine) if writes else engine, expire_on_commit=False) as session:
        try:
            if writes or alone:
                take_turn(session, alone=alone)
            yield session
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
    for secret in _secrets(parsed):
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
