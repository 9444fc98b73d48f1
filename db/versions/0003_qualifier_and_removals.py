"""chip_lot.qualifier: how exactly a chip count was given (exact, approx, at-least, up-to);
entry_removal: entries removed, kept for tracker changes; an index on entry.scope

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every count stored so far was taken as given: exact.
    with op.batch_alter_table("chip_lot") as batch_op:
        batch_op.add_column(
            sa.Column("qualifier", sa.String(length=10), server_default="exact", nullable=False)
        )
        batch_op.create_check_constraint("qualifier", "qualifier IN ('exact', 'approx', 'at-least', 'up-to')")
    op.create_index(op.f("ix_entry_scope"), "entry", ["scope"], unique=False)
    op.create_table(
        "entry_removal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_removal")),
    )
    op.create_index(op.f("ix_entry_removal_removed_at"), "entry_removal", ["removed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_removal_removed_at"), table_name="entry_removal")
    op.drop_table("entry_removal")
    op.drop_index(op.f("ix_entry_scope"), table_name="entry")
    with op.batch_alter_table("chip_lot") as batch_op:
        batch_op.drop_constraint(op.f("ck_chip_lot_qualifier"), type_="check")
        batch_op.drop_column("qualifier")
