"""chip_lot.qualifier: how exactly a chip count was given (exact, approx, at-least, up-to)

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


def downgrade() -> None:
    with op.batch_alter_table("chip_lot") as batch_op:
        batch_op.drop_constraint("ck_chip_lot_qualifier", type_="check")
        batch_op.drop_column("qualifier")
