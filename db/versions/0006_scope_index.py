"""entry: the scope index holds the entry's id, so that programmes are found from it alone

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
    op.drop_index("ix_entry_scope", table_name="entry")
    op.create_index("ix_entry_scope", "entry", ["scope", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_entry_scope", table_name="entry")
    op.create_index("ix_entry_scope", "entry", ["scope"], unique=False)
