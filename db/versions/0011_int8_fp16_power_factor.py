"""chip_model: dense INT8 and FP16 rates (for H100-equivalents on Epoch AI's basis); the views
estimate power with the power factor chosen from reported power (2.1, was 1.5), and
counted_lots gives each lot's model family

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POWER_FACTOR = "2.1"  # tracker.service.capacity.POWER_FACTOR when this revision was made


def _views() -> ModuleType:
    """Revision 0010, which defines the views."""
    spec = importlib.util.spec_from_file_location(
        "revision_0010", Path(__file__).with_name("0010_counted_views.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    views = _views()
    views.drop_views()
    op.add_column("chip_model", sa.Column("fp16_tflops", sa.Numeric(precision=10, scale=1), nullable=True))
    op.add_column("chip_model", sa.Column("int8_tops", sa.Numeric(precision=10, scale=1), nullable=True))
    views.create_views(op.get_bind().dialect.name, POWER_FACTOR, family=True)


def downgrade() -> None:
    views = _views()
    views.drop_views()
    # Dropped in place: copying chip_model, as a batch does on SQLite, would drop the table
    # that every chip lot refers to, which its foreign keys refuse.
    with op.batch_alter_table("chip_model", recreate="never") as batch_op:
        batch_op.drop_column("int8_tops")
        batch_op.drop_column("fp16_tflops")
    views.create_views(op.get_bind().dialect.name, "1.5")
