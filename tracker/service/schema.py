"""The schema's revisions: built and upgraded only by Alembic's migrations, which live in the
repository's ``db/`` folder, installed as ``tracker.migrations``."""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import sqlalchemy as sa

from tracker.errors import SchemaError
from tracker.service.urls import safe_url


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

# pg_advisory_xact_lock key that serialises schema creation and upgrades on PostgreSQL.
SCHEMA_LOCK_KEY = 0x7472_6163_6B65_72  # "tracker"


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


def usable_state(connection: sa.Connection) -> str:
    """:func:`schema_state`, ``"current"`` or ``"empty"``: a database at an older revision is
    refused with a hint to upgrade it."""
    state = schema_state(connection)
    if state == "outdated":
        raise SchemaError(
            f"the database {safe_url(connection.engine.url)} has an older schema; "
            "run `tracker init` to upgrade it"
        )
    return state


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


def lock_schema(connection: sa.Connection) -> None:
    """Keep other processes from creating or upgrading the schema until this transaction ends.

    On SQLite the write transaction (:func:`tracker.service.database.for_writing`) already does.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
