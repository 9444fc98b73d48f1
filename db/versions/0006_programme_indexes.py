"""entry: the scope and parent indexes hold the entry's id, so that programmes and their parts
are found from the indexes alone

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for column in ("scope", "parent_id"):
        op.drop_index(f"ix_entry_{column}", table_name="entry")
        op.create_index(f"ix_entry_{column}", "entry", [column, "id"], unique=False)


def downgrade() -> None:
    for column in ("scope", "parent_id"):
        op.drop_index(f"ix_entry_{column}", table_name="entry")
        op.create_index(f"ix_entry_{column}", "entry", [column], unique=False)
