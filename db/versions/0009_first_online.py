"""Time: each entry's first announced online period, kept when its online period moves;
from the history of its edits where it has moved, else its online period

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entry", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("first_online_start", sa.Date(), nullable=True))
    # With its CHECK as a column constraint, which both databases add in place.
    op.execute(
        "ALTER TABLE entry ADD COLUMN first_online_precision VARCHAR(10) "
        "CONSTRAINT ck_entry_first_online_precision CHECK (first_online_precision = 'day' OR "
        "first_online_precision = 'month' OR first_online_precision = 'quarter' OR "
        "first_online_precision = 'half' OR first_online_precision = 'year')"
    )
    connection = op.get_bind()
    entry = sa.table(
        "entry",
        sa.column("id", sa.String),
        sa.column("online_start", sa.Date),
        sa.column("online_precision", sa.String),
        sa.column("first_online_start", sa.Date),
        sa.column("first_online_precision", sa.String),
    )
    change = sa.table(
        "entry_change",
        sa.column("id", sa.Integer),
        sa.column("entry_id", sa.String),
        sa.column("field", sa.String),
        sa.column("old_value", sa.String),
        sa.column("new_value", sa.String),
        sa.column("changed_at", sa.DateTime),
    )
    # An entry whose online period was edited was first due on the first period its history
    # records: the one its first edit replaced, or else the first an edit gave.
    edits = connection.execute(
        sa.select(change.c.entry_id, change.c.old_value, change.c.new_value)
        .where(change.c.field == "online")
        .order_by(change.c.entry_id, change.c.changed_at, change.c.id)
    )
    first: dict[str, str] = {}
    for entry_id, old, new in edits:
        if entry_id not in first and (text := old or new):
            first[entry_id] = text
    moved = [
        {"key": entry_id, "start": parsed[0], "precision": parsed[1]}
        for entry_id, text in first.items()
        if (parsed := _period(text)) is not None
    ]
    if moved:
        connection.execute(
            entry.update()
            .where(entry.c.id == sa.bindparam("key"))
            .values(
                first_online_start=sa.bindparam("start"), first_online_precision=sa.bindparam("precision")
            ),
            moved,
        )
    connection.execute(
        entry.update()
        .where(entry.c.first_online_start.is_(None))
        .values(first_online_start=entry.c.online_start, first_online_precision=entry.c.online_precision)
    )


def _period(text: str) -> tuple[dt.date, str] | None:
    """A period as the tracker writes it (2025-12-15, 2025-12, 2025-Q4, 2026-H2, 2026): its
    first day and precision."""
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        return dt.date(*map(int, match.groups())), "day"
    if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return dt.date(int(match[1]), int(match[2]), 1), "month"
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        return dt.date(int(match[1]), 3 * int(match[2]) - 2, 1), "quarter"
    if match := re.fullmatch(r"(\d{4})-H([12])", text):
        return dt.date(int(match[1]), 6 * int(match[2]) - 5, 1), "half"
    if match := re.fullmatch(r"(\d{4})", text):
        return dt.date(int(match[1]), 1, 1), "year"
    return None


def downgrade() -> None:
    with op.batch_alter_table("entry", recreate="never") as batch_op:
        batch_op.drop_column("first_online_precision")
        batch_op.drop_column("first_online_start")
