"""The CHECKs that keep text columns within a vocabulary compare with each value in turn
(``status = 'announced' OR status = 'planned' ...``) instead of using ``IN (...)``: the same
rule, but SQLite builds a temporary index of an IN list for each row it checks, which made
these CHECKs most of the time a large import took

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "announced",
    "planned",
    "under-construction",
    "operational",
    "paused",
    "cancelled",
    "decommissioned",
)
PRECISIONS = ("day", "month", "quarter", "half", "year")
# Each table's vocabulary CHECKs, by column (the constraint is ck_<table>_<column>).
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "entry": {
        "status": STATUSES,
        "kind": ("factory", "gigafactory", "supercomputer", "cloud-region", "programme"),
        "sponsor": ("sovereign", "public-private", "private"),
        "confidence": ("confirmed", "reported", "rumoured"),
        "online_precision": PRECISIONS,
    },
    "chip_lot": {
        "status": STATUSES,
        "online_precision": PRECISIONS,
        "qualifier": ("exact", "approx", "at-least", "up-to"),
        "announced_unit": ("gpu", "superchip", "server", "rack"),
    },
    "status_event": {"from_status": STATUSES, "to_status": STATUSES},
    "token_metric": {"period_precision": PRECISIONS, "reported_per": ("day", "month")},
}


Rule = Callable[[str, tuple[str, ...]], str]  # a CHECK's text, given its column and values


def in_list(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def comparisons(column: str, values: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = '{value}'" for value in values)


def upgrade() -> None:
    _rewrite(in_list, comparisons)


def downgrade() -> None:
    _rewrite(comparisons, in_list)


def _rewrite(old: Rule, new: Rule) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, checks in CHECKS.items():
        if sqlite and table == "entry":
            texts = {column: (old(column, values), new(column, values)) for column, values in checks.items()}
            _rewrite_in_place(table, texts)
            continue
        with op.batch_alter_table(table) as batch_op:
            for column, values in checks.items():
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
                batch_op.create_check_constraint(column, new(column, values))


def _rewrite_in_place(table: str, checks: dict[str, tuple[str, str]]) -> None:
    """Change the text of a table's CHECKs in SQLite's schema, each to one that holds for the
    same values, so that every stored row still meets it.

    This is SQLite's documented procedure for a change that leaves the stored rows as they are
    (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
    Changes"). Batch mode would copy the table and drop the old one instead, and dropping
    ``entry`` while foreign keys are enforced (they cannot be turned off inside the
    migration's transaction) deletes every lot, source link, event and change of every entry
    (ON DELETE CASCADE). A CHECK not found as expected stops the migration, which changes
    nothing then.
    """
    connection = op.get_bind()
    (sql,) = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).one()
    for column, (old, new) in checks.items():
        before = f"CONSTRAINT ck_{table}_{column} CHECK ({old})"
        if sql.count(before) != 1:
            raise RuntimeError(f"the table {table} does not have the CHECK {before!r} once")
        sql = sql.replace(before, f"CONSTRAINT ck_{table}_{column} CHECK ({new})")
    (version,) = connection.exec_driver_sql("PRAGMA schema_version").one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        connection.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table)
        )
        # A new schema version has every connection read the table's definition again.
        connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = connection.exec_driver_sql("PRAGMA quick_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"the database does not check as sound after changing {table}: {problems}")
