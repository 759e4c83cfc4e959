"""comments.queued_at: when the sweeper or the recheck last queued a comment's check

Revision ID: mod0007
Revises: mod0006
Create Date: 2026-12-08 10:05:00

Written by hand. Stored comments keep NULL: queued by the intake, at their receipt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0007"
down_revision: str | Sequence[str] | None = "mod0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("queued_at")
