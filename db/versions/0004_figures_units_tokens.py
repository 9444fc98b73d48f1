"""chip_model: FP8 figures and accelerators per superchip, server and rack; chip_lot: the
count as announced (quantity and unit); token_metric: the figure as reported

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chip_model") as batch_op:
        batch_op.add_column(sa.Column("fp8_tflops", sa.Numeric(precision=10, scale=1), nullable=True))
        batch_op.add_column(sa.Column("per_superchip", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("per_server", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("per_rack", sa.Integer(), nullable=True))
    # Counts stored so far were of accelerators, as given: no announced unit.
    with op.batch_alter_table("chip_lot") as batch_op:
        batch_op.add_column(sa.Column("announced_quantity", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("announced_unit", sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            "announced_unit", "announced_unit IN ('gpu', 'superchip', 'server', 'rack')"
        )
        batch_op.create_check_constraint(
            "announced_complete", "(announced_quantity IS NULL) = (announced_unit IS NULL)"
        )
    with op.batch_alter_table("token_metric") as batch_op:
        batch_op.add_column(sa.Column("reported_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reported_per", sa.String(length=5), nullable=True))
        batch_op.create_check_constraint("reported_per", "reported_per IN ('day', 'month')")


def downgrade() -> None:
    with op.batch_alter_table("token_metric") as batch_op:
        batch_op.drop_constraint(op.f("ck_token_metric_reported_per"), type_="check")
        batch_op.drop_column("reported_per")
        batch_op.drop_column("reported_tokens")
    with op.batch_alter_table("chip_lot") as batch_op:
        batch_op.drop_constraint(op.f("ck_chip_lot_announced_complete"), type_="check")
        batch_op.drop_constraint(op.f("ck_chip_lot_announced_unit"), type_="check")
        batch_op.drop_column("announced_unit")
        batch_op.drop_column("announced_quantity")
    # Dropped in place: copying chip_model, as a batch does on SQLite, would drop the table
    # that every chip lot refers to, which its foreign keys refuse.
    with op.batch_alter_table("chip_model", recreate="never") as batch_op:
        batch_op.drop_column("per_rack")
        batch_op.drop_column("per_server")
        batch_op.drop_column("per_superchip")
        batch_op.drop_column("fp8_tflops")
