"""rule modes: rule_settings (mode and weight per rule) and list_entries.mode

Revision ID: mod0009
Revises: mod0008
Create Date: 2026-12-09 10:00:00

Written by hand. A rule without a row in rule_settings is on at its default weight; every
list entry stored before this revision is on (docs/contract.md §4: on | trial | off).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0009"
down_revision: str | Sequence[str] | None = "mod0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_settings",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("weight", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("rule"),
    )
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mode", sa.String(length=8), server_default="on", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.drop_column("mode")
    op.drop_table("rule_settings")
