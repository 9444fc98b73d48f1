"""Alembic environment: the tracker hands over an open connection; the ``alembic``
command line (for developers writing migrations) uses TRACKER_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tracker.model.tables import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    from tracker.service.database import create_engine
    from tracker.service.urls import resolve_url

    engine = create_engine(resolve_url(None))
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_online()
