"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chip_vendor",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chip_vendor")),
    )
    op.create_table(
        "region",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region")),
    )
    op.create_table(
        "seed_load",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_seed_load")),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("reference", name=op.f("uq_source_reference")),
    )
    op.create_table(
        "chip_model",
        sa.Column("vendor", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("family", sa.String(length=60), nullable=True),
        sa.Column("bf16_tflops", sa.Numeric(precision=10, scale=1), nullable=True),
        sa.Column("tdp_w", sa.Integer(), nullable=True),
        sa.Column("figures_source", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["vendor"],
            ["chip_vendor.name"],
            name=op.f("fk_chip_model_vendor_chip_vendor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vendor", "name", name=op.f("pk_chip_model")),
    )
    op.create_table(
        "chip_vendor_alias",
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.Column("vendor", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor"],
            ["chip_vendor.name"],
            name=op.f("fk_chip_vendor_alias_vendor_chip_vendor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_chip_vendor_alias")),
    )
    op.create_table(
        "entry",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("scope", sa.String(length=40), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("sponsor", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.String(length=20), nullable=True),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column("online_start", sa.Date(), nullable=True),
        sa.Column("online_precision", sa.String(length=10), nullable=True),
        sa.Column("power_mw", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("parent_id", sa.String(length=80), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "confidence IN ('confirmed', 'reported', 'rumoured')", name=op.f("ck_entry_confidence")
        ),
        sa.CheckConstraint(
            "kind IN ('factory', 'gigafactory', 'supercomputer', 'cloud-region', 'programme')",
            name=op.f("ck_entry_kind"),
        ),
        sa.CheckConstraint(
            "online_precision IN ('day', 'month', 'quarter', 'half', 'year')",
            name=op.f("ck_entry_online_precision"),
        ),
        sa.CheckConstraint(
            "sponsor IN ('sovereign', 'public-private', 'private')", name=op.f("ck_entry_sponsor")
        ),
        sa.CheckConstraint(
            "status IN ('announced', 'planned', 'under-construction', 'operational', 'paused', 'cancelled', 'decommissioned')",
            name=op.f("ck_entry_status"),
        ),
        sa.CheckConstraint(
            "(online_start IS NULL) = (online_precision IS NULL)", name=op.f("ck_entry_online_complete")
        ),
        sa.CheckConstraint("country IS NOT NULL OR scope IS NOT NULL", name=op.f("ck_entry_located")),
        sa.CheckConstraint("power_mw > 0", name=op.f("ck_entry_power_positive")),
        sa.ForeignKeyConstraint(["parent_id"], ["entry.id"], name=op.f("fk_entry_parent_id_entry")),
        sa.ForeignKeyConstraint(["scope"], ["region.id"], name=op.f("fk_entry_scope_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry")),
    )
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_entry_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "region_country",
        sa.Column("region_id", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_region_country_region_id_region"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("region_id", "country", name=op.f("pk_region_country")),
    )
    with op.batch_alter_table("region_country", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_region_country_country"), ["country"], unique=False)

    op.create_table(
        "token_metric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_precision", sa.String(length=10), nullable=False),
        sa.Column("tokens_per_day", sa.BigInteger(), nullable=False),
        sa.Column("share_pct", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "period_precision IN ('day', 'month', 'quarter', 'half', 'year')",
            name=op.f("ck_token_metric_period_precision"),
        ),
        sa.CheckConstraint("tokens_per_day > 0", name=op.f("ck_token_metric_tokens_positive")),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_token_metric_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_metric")),
        sa.UniqueConstraint(
            "provider",
            "period_start",
            "period_precision",
            name=op.f("uq_token_metric_provider_period_start_period_precision"),
        ),
    )
    op.create_table(
        "chip_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("lot", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=60), nullable=False),
        sa.Column("model", sa.String(length=60), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("online_start", sa.Date(), nullable=True),
        sa.Column("online_precision", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "online_precision IN ('day', 'month', 'quarter', 'half', 'year')",
            name=op.f("ck_chip_lot_online_precision"),
        ),
        sa.CheckConstraint(
            "status IN ('announced', 'planned', 'under-construction', 'operational', 'paused', 'cancelled', 'decommissioned')",
            name=op.f("ck_chip_lot_status"),
        ),
        sa.CheckConstraint(
            "(online_start IS NULL) = (online_precision IS NULL)", name=op.f("ck_chip_lot_online_complete")
        ),
        sa.CheckConstraint("lot > 0", name=op.f("ck_chip_lot_lot_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_chip_lot_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_chip_lot_entry_id_entry"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["vendor", "model"],
            ["chip_model.vendor", "chip_model.name"],
            name=op.f("fk_chip_lot_vendor_model_chip_model"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor"], ["chip_vendor.name"], name=op.f("fk_chip_lot_vendor_chip_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chip_lot")),
        sa.UniqueConstraint("entry_id", "lot", name=op.f("uq_chip_lot_entry_id_lot")),
    )
    with op.batch_alter_table("chip_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chip_lot_vendor_model"), ["vendor", "model"], unique=False)

    op.create_table(
        "chip_model_alias",
        sa.Column("vendor", sa.String(length=60), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor", "model"],
            ["chip_model.vendor", "chip_model.name"],
            name=op.f("fk_chip_model_alias_vendor_model_chip_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vendor", "alias", name=op.f("pk_chip_model_alias")),
    )
    op.create_table(
        "entry_source",
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_entry_source_entry_id_entry"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_entry_source_source_id_source")),
        sa.PrimaryKeyConstraint("entry_id", "source_id", name=op.f("pk_entry_source")),
    )
    with op.batch_alter_table("entry_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_source_source_id"), ["source_id"], unique=False)

    op.create_table(
        "status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "from_status IN ('announced', 'planned', 'under-construction', 'operational', 'paused', 'cancelled', 'decommissioned')",
            name=op.f("ck_status_event_from_status"),
        ),
        sa.CheckConstraint(
            "to_status IN ('announced', 'planned', 'under-construction', 'operational', 'paused', 'cancelled', 'decommissioned')",
            name=op.f("ck_status_event_to_status"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_status_event_entry_id_entry"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_status_event_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_event")),
    )
    with op.batch_alter_table("status_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_event_entry_id_effective_on"), ["entry_id", "effective_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("status_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_event_entry_id_effective_on"))

    op.drop_table("status_event")
    with op.batch_alter_table("entry_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_source_source_id"))

    op.drop_table("entry_source")
    op.drop_table("chip_model_alias")
    with op.batch_alter_table("chip_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chip_lot_vendor_model"))

    op.drop_table("chip_lot")
    op.drop_table("token_metric")
    with op.batch_alter_table("region_country", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_region_country_country"))

    op.drop_table("region_country")
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_parent_id"))
        batch_op.drop_index(batch_op.f("ix_entry_country"))

    op.drop_table("entry")
    op.drop_table("chip_vendor_alias")
    op.drop_table("chip_model")
    op.drop_table("source")
    op.drop_table("seed_load")
    op.drop_table("region")
    op.drop_table("chip_vendor")
