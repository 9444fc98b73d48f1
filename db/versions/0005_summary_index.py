"""chip_lot: an index holding every column a summary reads of a lot, by entry

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_chip_lot_summary",
        "chip_lot",
        ["entry_id", "status", "vendor", "model", "quantity", "qualifier"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_chip_lot_summary", table_name="chip_lot")
