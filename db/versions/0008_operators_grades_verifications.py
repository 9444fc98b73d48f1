"""Sovereignty: an entry's other owners and users; operators as records (headquarters country, kind, group, aliases, source),
each distinct operator text of the entries becoming one; chip vendors' country; sources'
grade of trust; the days entries were verified

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hq_country", sa.String(length=2), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=True),
        sa.Column("group_name", sa.String(length=200), nullable=True),
        sa.Column("hq_source", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind = 'state' OR kind = 'public' OR kind = 'private'", name=op.f("ck_operator_kind")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_operator")),
    )
    op.create_table(
        "operator_alias",
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator"],
            ["operator.name"],
            name=op.f("fk_operator_alias_operator_operator"),
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_operator_alias")),
    )
    op.create_index(op.f("ix_operator_alias_operator"), "operator_alias", ["operator"], unique=False)
    op.create_table(
        "entry_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_entry_verification_entry_id_entry"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_entry_verification_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_verification")),
    )
    op.create_index(
        op.f("ix_entry_verification_entry_id_verified_on"),
        "entry_verification",
        ["entry_id", "verified_on"],
        unique=False,
    )
    # Columns added in place: copying chip_vendor or source, as a batch does on SQLite, would
    # drop tables that lots and links refer to.
    with op.batch_alter_table("chip_vendor", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("country_source", sa.Text(), nullable=True))
    # With its CHECK as a column constraint, which both databases add in place.
    op.execute(
        "ALTER TABLE source ADD COLUMN grade VARCHAR(10) CONSTRAINT ck_source_grade "
        "CHECK (grade = 'primary' OR grade = 'press' OR grade = 'secondary')"
    )
    with op.batch_alter_table("entry", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("users", sa.Text(), nullable=True))
    op.create_index(op.f("ix_entry_operator"), "entry", ["operator"], unique=False)
    # Each distinct operator text becomes an operator, named as it is written: nothing is lost.
    op.execute("INSERT INTO operator (name) SELECT DISTINCT operator FROM entry WHERE operator IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_operator"), table_name="entry")
    with op.batch_alter_table("entry", recreate="never") as batch_op:
        batch_op.drop_column("users")
    with op.batch_alter_table("source", recreate="never") as batch_op:
        batch_op.drop_column("grade")
    with op.batch_alter_table("chip_vendor", recreate="never") as batch_op:
        batch_op.drop_column("country_source")
        batch_op.drop_column("country")
    op.drop_index(op.f("ix_entry_verification_entry_id_verified_on"), table_name="entry_verification")
    op.drop_table("entry_verification")
    op.drop_index(op.f("ix_operator_alias_operator"), table_name="operator_alias")
    op.drop_table("operator_alias")
    op.drop_table("operator")
