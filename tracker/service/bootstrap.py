"""Getting a database ready: schema, reference data, and the seeds of a new user."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tracker.errors import DatabaseUnavailable, InvalidValue, SchemaError
from tracker.service import counts, database, schema, seeds, urls


@dataclass(frozen=True)
class InitReport:
    """What ``tracker init`` did."""

    schema: str  # "created", "upgraded" or "current"
    reference_rows: int
    seed_entries: int
    database: str = ""  # the database, as it may be shown (no password)
    revision: str = ""  # the schema's revision now


def open_database(url: str | None, *, writes: bool = False) -> Engine:
    """An engine for the database a command should use, ready to use.

    A database without the schema gets it, with the reference data; the default
    database of a new user also gets the seed entries. A database at an older
    revision must be upgraded with ``tracker init``. ``writes`` says the command
    writes, which an in-memory database would lose (:func:`engine_for`).
    """
    engine, is_default = engine_for(url, writes=writes)
    try:
        with database.connect(engine) as connection:
            state = schema.usable_state(connection)
        if state == "empty":
            initialise(engine, seed_entries=is_default)
    except BaseException:
        engine.dispose()
        raise
    return engine


def engine_for(url: str | None, *, writes: bool = False) -> tuple[Engine, bool]:
    """An engine for ``url`` (see :func:`urls.resolve_url`), and whether it is the
    default database, whose folder is created if need be.

    A command that ``writes`` is refused an in-memory database: what it wrote would be
    gone when it ends, though it said it succeeded.
    """
    resolved = urls.resolve_url(url)
    if writes and urls.is_in_memory(resolved):
        raise InvalidValue(
            "db",
            "is an in-memory SQLite database, where what a command writes is lost when it ends; "
            "give a file (a path, or sqlite:///FILE)",
        )
    is_default = resolved == urls.default_url()
    if is_default:
        try:
            urls.data_dir().mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseUnavailable(
                f"cannot create the data folder {urls.data_dir()}: {error.strerror}"
            ) from None
    return database.create_engine(resolved), is_default


def initialise(engine: Engine, *, seed_entries: bool) -> InitReport:
    """Create or upgrade the schema and load the seeds, in one transaction."""
    with database.connect(database.for_writing(engine)) as connection, connection.begin():
        schema.lock_schema(connection)
        state = schema.schema_state(connection)
        if state != "current":
            _upgrade(connection)
        with Session(bind=connection) as session:
            # Held first, as every writer does: the seeds update catalogue rows that another
            # writer may update too, and in another order the two would deadlock.
            counts.hold(session)
            reference_rows = seeds.load_reference(session)
            entries = seeds.load_entries(session) if seed_entries else 0
            # Always: so that init rebuilds a count a write outside the tracker left out of date.
            counts.recount(session, always=True)
    return InitReport(
        schema={"empty": "created", "outdated": "upgraded"}.get(state, "current"),
        reference_rows=reference_rows,
        seed_entries=entries,
        database=urls.safe_url(engine.url),
        revision=schema.head_revision(),
    )


def _upgrade(connection: Connection) -> None:
    """Run the migrations in the caller's transaction; a failure, which rolls it back, is one
    line naming the revision the database says it is at (a failure of the database itself, a
    lock or a full disk, is told as such)."""
    recorded = schema.current_revision(connection)
    try:
        schema.upgrade(connection)
    except Exception as error:
        if database.is_unavailable(error):
            raise
        url = connection.engine.url
        detail = database.error_detail(url, error)
        done = f"failed ({detail}); the database is unchanged"
        if recorded is None:
            raise SchemaError(f"creating the schema of the database {urls.safe_url(url)} {done}") from error
        raise SchemaError(
            f"the schema of the database {urls.safe_url(url)} does not match its recorded revision "
            f"{recorded}: upgrading it to {schema.head_revision()} {done}"
        ) from error
