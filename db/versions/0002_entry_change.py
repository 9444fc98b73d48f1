"""entry_change: the history of edits made with tracker update

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_entry_change_entry_id_entry"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_entry_change_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_change")),
    )
    op.create_index(op.f("ix_entry_change_entry_id"), "entry_change", ["entry_id"], unique=False)
    op.create_index(op.f("ix_entry_change_changed_at"), "entry_change", ["changed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_change_changed_at"), table_name="entry_change")
    op.drop_index(op.f("ix_entry_change_entry_id"), table_name="entry_change")
    op.drop_table("entry_change")
