"""The schema: built only by the migrations, which agree with the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.conftest import Tracker
from tracker.model.tables import Base
from tracker.service.bootstrap import initialise
from tracker.service.database import create_engine, head_revision, migration_head


def test_the_migrations_build_exactly_the_models(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    initialise(engine, seed_entries=False)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        tables = set(sa.inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_the_schema_revision_constant_is_the_newest_migration() -> None:
    assert head_revision() == migration_head()


def test_init_creates_the_schema_then_changes_nothing(empty_db_url: str) -> None:
    tracker = Tracker(empty_db_url)
    first = tracker("init")
    assert first.exit_code == 0
    assert "schema created" in first.stderr
    export = tracker.export()
    second = tracker("init")
    assert second.exit_code == 0
    assert (
        f"schema current (revision {head_revision()}); 0 reference rows and 0 seed entries added"
        in second.stderr
    )
    assert tracker.export() == export


def test_init_no_seed_loads_reference_data_only(empty_db_url: str) -> None:
    tracker = Tracker(empty_db_url)
    tracker.ok("init", "--no-seed")
    assert tracker.export().splitlines()[1:] == []
    assert "europe" in tracker.ok("regions")


def test_any_command_creates_the_schema_of_an_empty_database(empty_db_url: str) -> None:
    tracker = Tracker(empty_db_url)
    assert tracker.ok("list", "--format", "csv").splitlines() == [
        "id,name,country,operator,status,announced,online,vendor,chips"
    ]


def run_sql(url: str, sql: str, *, initialised: bool = False) -> None:
    engine = create_engine(url)
    if initialised:
        initialise(engine, seed_entries=True)
    with engine.begin() as connection:
        connection.exec_driver_sql(sql)
    engine.dispose()


def test_a_database_holding_other_tables_is_left_alone(empty_db_url: str) -> None:
    run_sql(empty_db_url, "CREATE TABLE payroll (id INTEGER PRIMARY KEY)")
    result = Tracker(empty_db_url)("list")
    assert result.exit_code == 1
    assert "holds other tables (payroll) and no tracker schema" in result.stderr


def test_a_schema_newer_than_the_tracker_is_refused(empty_db_url: str) -> None:
    run_sql(empty_db_url, "UPDATE alembic_version SET version_num = 'ffff'", initialised=True)
    result = Tracker(empty_db_url)("list")
    assert result.exit_code == 1
    assert "revision ffff, which this tracker does not know" in result.stderr
