"""The schema: built only by the migrations, which agree with the models."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.conftest import Tracker, chip_lines, export_file
from tracker.model.periods import Precision
from tracker.model.tables import Base
from tracker.model.vocabulary import Confidence, Kind, Qualifier, Sponsor, Status, TokenRate, Unit
from tracker.service.bootstrap import initialise
from tracker.service.database import create_engine
from tracker.service.schema import (
    SCHEMA_REVISION,
    current_revision,
    head_revision,
    migration_head,
    migration_revisions,
    upgrade,
)


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
        "id,name,country,operator,status,announced,online,vendor,chips,qualifier,kind,parent,scope"
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


# Rows as the first release wrote them, in its own schema (revision 0001).
FIRST_RELEASE_ROWS = (
    "INSERT INTO region (id, name, definition, source) VALUES ('eu', 'EU', 'EU-27', 'EUR-Lex')",
    "INSERT INTO region_country (region_id, country) VALUES ('eu', 'FR')",
    "INSERT INTO chip_vendor (name) VALUES ('NVIDIA')",
    "INSERT INTO chip_model (vendor, name) VALUES ('NVIDIA', 'B300')",
    "INSERT INTO source (reference) VALUES ('https://example.org/a')",
    "INSERT INTO entry (id, name, country, kind, status, announced_on, online_start, online_precision, "
    "created_at, updated_at) VALUES ('plan', 'Plan', 'FR', 'programme', 'announced', '2025-06-11', "
    "'2025-10-01', 'quarter', '2025-06-12 08:00:00', '2025-06-12 08:00:00')",
    "INSERT INTO entry (id, name, country, status, parent_id, created_at, updated_at) VALUES "
    "('site', 'Site', 'FR', 'operational', 'plan', '2025-06-12 08:00:00', '2025-12-02 10:00:00')",
    "INSERT INTO chip_lot (entry_id, lot, vendor, model, quantity) "
    "VALUES ('plan', 1, 'NVIDIA', 'B300', 9000)",
    "INSERT INTO chip_lot (entry_id, lot, vendor, model, quantity) VALUES ('site', 1, 'NVIDIA', NULL, 4000)",
    "INSERT INTO entry_source (entry_id, source_id) SELECT entry.id, source.id FROM entry, source",
    "INSERT INTO status_event (entry_id, from_status, to_status, effective_on, recorded_at, source_id) "
    "SELECT 'site', 'announced', 'operational', '2025-12-01', '2025-12-02 10:00:00', id FROM source",
)
PLAN: dict[str, object] = {
    "id": "plan",
    "name": "Plan",
    "country": "FR",
    "kind": "programme",
    "status": "announced",
}
PLAN |= {"announced": "2025-06-11", "online": "2025-Q4", "lot": 1, "vendor": "NVIDIA", "model": "B300"}
PLAN |= {"chips": 9000, "sources": "https://example.org/a", "qualifier": "exact"}
PLAN |= {"first_online": "2025-Q4"}  # migration 0009: its online period, never moved
SITE: dict[str, object] = {
    "id": "site",
    "name": "Site",
    "country": "FR",
    "parent": "plan",
    "status": "operational",
    "lot": 1,
}
SITE |= {"vendor": "NVIDIA", "chips": 4000, "sources": "https://example.org/a", "qualifier": "exact"}
UPGRADED_EXPORT = export_file(PLAN, SITE)


def _database_at(url: str, revision: str, statements: Sequence[str]) -> sa.Engine:
    """An engine on a database built by the migrations up to ``revision``, holding the rows
    ``statements`` insert."""
    engine = create_engine(url)
    with engine.begin() as connection:
        upgrade(connection, revision)
        for statement in statements:
            connection.execute(sa.text(statement))
    return engine


def test_a_database_at_the_first_migration_holding_data_is_upgraded_with_nothing_lost(
    empty_db_url: str,
) -> None:
    engine = _database_at(empty_db_url, "0001", FIRST_RELEASE_ROWS)
    with engine.connect() as connection:
        assert current_revision(connection) == "0001"
    engine.dispose()
    tracker = Tracker(empty_db_url)
    assert tracker("list").exit_code == 1  # asks for tracker init first
    assert tracker("init", "--no-seed").exit_code == 0
    assert tracker.export() == UPGRADED_EXPORT
    history = tracker.ok("show", "site").split("Status history")[1]
    assert "operational" in history
    assert "2025-12-01" in history
    assert "https://example.org/a" in history
    # Counted once: the site's 4,000 are part of the plan's 9,000.
    assert chip_lines(tracker.ok("summary", "--by", "country", "--format", "csv")) == [
        "country,entries,chips,qualifier",
        "FR,2,9000,exact",
    ]
    # The catalogue's figures reach a database made before they were bundled.
    h100 = next(row for row in tracker.ok("chips", "--format", "json").split("\n") if '"H100"' in row)
    assert '"bf16_tflops": 989.5' in h100
    engine = create_engine(empty_db_url)
    with engine.connect() as connection:
        assert current_revision(connection) == SCHEMA_REVISION
        assert connection.execute(sa.text("SELECT count(*) FROM entry_change")).scalar_one() == 0
        assert connection.execute(sa.text("SELECT count(*) FROM status_event")).scalar_one() == 1
    engine.dispose()


# Each CHECK that keeps a text column within a vocabulary: table, column, values, and whether
# the column may be empty (NULL).
VOCABULARY_CHECKS = (
    ("entry", "status", Status, False),
    ("entry", "kind", Kind, True),
    ("entry", "sponsor", Sponsor, True),
    ("entry", "confidence", Confidence, True),
    ("entry", "online_precision", Precision, False),  # NULL with online_start only
    ("chip_lot", "status", Status, True),
    ("chip_lot", "online_precision", Precision, False),
    ("chip_lot", "qualifier", Qualifier, False),
    ("chip_lot", "announced_unit", Unit, False),
    ("status_event", "from_status", Status, True),
    ("status_event", "to_status", Status, False),
    ("token_metric", "period_precision", Precision, False),
    ("token_metric", "reported_per", TokenRate, True),
)
# Rows at revision 0006 that give every column above a value.
REVISION_0006_ROWS = (
    "INSERT INTO region (id, name, definition, source) VALUES ('eu', 'EU', 'EU-27', 'EUR-Lex')",
    "INSERT INTO chip_vendor (name) VALUES ('NVIDIA')",
    "INSERT INTO chip_model (vendor, name, per_rack) VALUES ('NVIDIA', 'GB200', 72)",
    "INSERT INTO source (reference) VALUES ('https://example.org/a')",
    "INSERT INTO entry (id, name, scope, kind, sponsor, status, confidence, announced_on, online_start, "
    "online_precision, created_at, updated_at) VALUES ('plan', 'Plan', 'eu', 'programme', 'sovereign', "
    "'planned', 'confirmed', '2025-06-11', '2026-10-01', 'quarter', '2025-06-12 08:00:00', "
    "'2025-06-12 08:00:00')",
    "INSERT INTO entry (id, name, country, kind, sponsor, status, confidence, parent_id, power_mw, "
    "created_at, updated_at) VALUES ('site', 'Site', 'FR', 'factory', 'private', 'operational', 'reported', "
    "'plan', 12.5, '2025-06-12 08:00:00', '2025-12-02 10:00:00')",
    "INSERT INTO chip_lot (entry_id, lot, vendor, model, quantity, qualifier, announced_quantity, "
    "announced_unit) VALUES ('plan', 1, 'NVIDIA', 'GB200', 144, 'at-least', 2, 'rack')",
    "INSERT INTO chip_lot (entry_id, lot, vendor, model, quantity, qualifier, status, online_start, "
    "online_precision) VALUES ('site', 1, 'NVIDIA', NULL, 4000, 'approx', 'paused', '2025-11-01', 'month')",
    "INSERT INTO entry_source (entry_id, source_id) SELECT entry.id, source.id FROM entry, source",
    "INSERT INTO status_event (entry_id, from_status, to_status, effective_on, recorded_at, source_id) "
    "SELECT 'site', 'announced', 'operational', '2025-12-01', '2025-12-02 10:00:00', id FROM source",
    "INSERT INTO entry_change (entry_id, field, old_value, new_value, changed_at) "
    "VALUES ('site', 'city', NULL, 'Lyon', '2025-12-02 10:00:00')",
    "INSERT INTO token_metric (provider, period_start, period_precision, tokens_per_day, reported_tokens, "
    "reported_per) VALUES ('Example', '2025-05-01', 'month', 1000000000, 30000000000, 'month')",
)
DATA_TABLES = ("entry", "chip_lot", "entry_source", "source", "status_event", "entry_change", "token_metric")


def _table_rows(connection: sa.Connection) -> dict[str, list[tuple[object, ...]]]:
    """The rows of the tables holding data, sorted, of the columns they had at revision 0006 (a
    later migration may add columns, such as a field of an entry: empty for these rows)."""
    return {
        table: sorted(
            tuple(row)
            for row in connection.execute(sa.text(f"SELECT {', '.join(COLUMNS_AT_0006[table])} FROM {table}"))
        )
        for table in DATA_TABLES
    }


def _database_at_0006(url: str) -> dict[str, list[tuple[object, ...]]]:
    """A database at revision 0006 holding rows; returns them, by table."""
    engine = _database_at(url, "0006", REVISION_0006_ROWS)
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in DATA_TABLES:
            COLUMNS_AT_0006.setdefault(table, [column["name"] for column in inspector.get_columns(table)])
        rows = _table_rows(connection)
    engine.dispose()
    return rows


COLUMNS_AT_0006: dict[str, list[str]] = {}


def _vocabulary_checks_hold(connection: sa.Connection) -> None:
    """Each vocabulary's CHECK takes each of its values (and NULL where the column may be
    empty) and refuses any other text, near misses included."""
    for table, column, values, nullable in VOCABULARY_CHECKS:
        update = sa.text(f"UPDATE {table} SET {column} = :value WHERE {column} IS NOT NULL")
        assert connection.execute(sa.text(f"SELECT count({column}) FROM {table}")).scalar_one() > 0
        for value in [choice.value for choice in values] + ([None] if nullable else []):
            with connection.begin_nested() as savepoint:
                connection.execute(update, {"value": value})
                savepoint.rollback()
        for choice in values:
            for wrong in (choice.value.upper(), choice.value.title(), choice.value[:-1], ""):
                with pytest.raises(sa.exc.IntegrityError, match=r"(?i)check"), connection.begin_nested():
                    connection.execute(update, {"value": wrong})
        with pytest.raises(sa.exc.IntegrityError, match=r"(?i)check"), connection.begin_nested():
            connection.execute(update, {"value": "other"})


def test_a_database_at_0006_holding_data_is_upgraded_with_nothing_lost_and_its_checks_kept(
    empty_db_url: str,
) -> None:
    before = _database_at_0006(empty_db_url)
    result = Tracker(empty_db_url)("init", "--no-seed")
    assert result.exit_code == 0, result.stderr
    assert "schema upgraded" in result.stderr
    engine = create_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == SCHEMA_REVISION
            after = _table_rows(connection)
            assert {table: after[table] for table in DATA_TABLES if table != "source"} == {
                table: before[table] for table in DATA_TABLES if table != "source"
            }
            # The reference data init loads adds sources; the one stored is kept as it was.
            assert set(before["source"]) <= set(after["source"])
        with engine.begin() as connection:
            _vocabulary_checks_hold(connection)
    finally:
        engine.dispose()


def test_the_vocabulary_checks_of_a_new_database_hold(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            for statement in REVISION_0006_ROWS[3:]:  # the reference data has the region and chips
                connection.execute(sa.text(statement))
            _vocabulary_checks_hold(connection)
    finally:
        engine.dispose()


def test_sqlite_checks_vocabularies_by_comparisons_not_in_lists(tmp_path: Path) -> None:
    # SQLite builds a temporary index of an IN list for every row it checks (migration 0007).
    url = f"sqlite:///{tmp_path / 'new.db'}"
    _database_at_0006(url)
    Tracker(url).ok("init", "--no-seed")
    engine = create_engine(url)
    with engine.connect() as connection:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
        tables: dict[str, str] = {name: sql for name, sql in connection.exec_driver_sql(query)}
    engine.dispose()
    for table, column, values, _ in VOCABULARY_CHECKS:
        assert " IN (" not in tables[table]
        assert " OR ".join(f"{column} = '{choice.value}'" for choice in values) in tables[table]


def test_the_0007_migration_goes_back_to_0006_with_nothing_lost(empty_db_url: str) -> None:
    from alembic import command

    from tracker.service.schema import _alembic_config

    before = _database_at_0006(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            upgrade(connection)
            command.downgrade(_alembic_config(connection), "0006")
        with engine.connect() as connection:
            assert current_revision(connection) == "0006"
            assert _table_rows(connection) == before
        with engine.begin() as connection:
            _vocabulary_checks_hold(connection)
    finally:
        engine.dispose()


def _schema(connection: sa.Connection) -> dict[str, dict[str, object]]:
    """The tables' columns, constraints and indexes, by name, as the database describes them."""
    inspector = sa.inspect(connection)
    return {
        table: {
            "columns": [column["name"] for column in inspector.get_columns(table)],
            "checks": sorted(
                (check["name"], check["sqltext"]) for check in inspector.get_check_constraints(table)
            ),
            "uniques": sorted(str(unique["name"]) for unique in inspector.get_unique_constraints(table)),
            "foreign keys": sorted(str(key["name"]) for key in inspector.get_foreign_keys(table)),
            "indexes": sorted(str(index["name"]) for index in inspector.get_indexes(table)),
        }
        for table in sorted(inspector.get_table_names())
    }


def test_every_migration_goes_back_to_the_one_before_and_up_again_to_the_same_schema(
    empty_db_url: str,
) -> None:
    from alembic import command

    from tracker.service.schema import _alembic_config

    engine = _database_at(empty_db_url, "0001", FIRST_RELEASE_ROWS)
    try:
        with engine.begin() as connection:
            upgrade(connection)
        with engine.connect() as connection:
            newest = _schema(connection)
        for revision in sorted(migration_revisions(), reverse=True)[1:]:
            with engine.begin() as connection:
                command.downgrade(_alembic_config(connection), revision)
            with engine.connect() as connection:
                assert current_revision(connection) == revision
        with engine.connect() as connection:
            entries = connection.execute(sa.text("SELECT id, parent_id FROM entry ORDER BY id")).all()
            assert [tuple(row) for row in entries] == [("plan", None), ("site", "plan")]
        with engine.begin() as connection:
            upgrade(connection)
        with engine.connect() as connection:
            assert _schema(connection) == newest
    finally:
        engine.dispose()


def test_a_database_at_0007_gets_an_operator_for_each_distinct_operator_text(empty_db_url: str) -> None:
    rows = [
        "INSERT INTO entry (id, name, country, status, operator, created_at, updated_at) VALUES "
        f"('{entry_id}', 'Site', 'FR', 'announced', {operator}, '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
        for entry_id, operator in (
            ("a", "'Meta AI'"),
            ("b", "'Acme Ltd'"),
            ("c", "'Acme Ltd'"),
            ("d", "NULL"),
        )
    ]
    _database_at(empty_db_url, "0007", rows).dispose()
    tracker = Tracker(empty_db_url)
    assert tracker("init", "--no-seed").exit_code == 0
    exported = {row["id"]: row["operator"] for row in csv.DictReader(io.StringIO(tracker.export()))}
    assert exported == {"a": "Meta", "b": "Acme Ltd", "c": "Acme Ltd", "d": ""}
    listed = {
        row["operator"]: row
        for row in csv.DictReader(io.StringIO(tracker.ok("operators", "--format", "csv")))
    }
    assert listed["Acme Ltd"]["entries"] == "2"
    assert listed["Acme Ltd"]["hq_country"] == ""  # not known: `tracker check` says so
    # "Meta AI" is one of the bundled Meta's names: the entry takes Meta, the text stays one of
    # its names, and the entry's history keeps the change: nothing lost.
    assert (listed["Meta"]["hq_country"], listed["Meta"]["entries"]) == ("US", "1")
    assert "Meta AI" not in listed
    assert "Meta AI" in listed["Meta"]["aliases"].split(", ")
    edits = json.loads(tracker.ok("show", "a", "--format", "json"))["edits"]
    assert [(e["field"], e["old"], e["new"]) for e in edits] == [("operator", "Meta AI", "Meta")]
