"""event_outbox: events recorded with their status change, relayed to Redis after commit

Revision ID: mod0006
Revises: mod0005
Create Date: 2026-12-08 10:00:00

Written by hand. Starts empty: events appended before this revision are in the stream.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0006"
down_revision: str | Sequence[str] | None = "mod0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("article", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_outbox_comment_id", "event_outbox", ["comment_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_event_outbox_comment_id", table_name="event_outbox")
    op.drop_table("event_outbox")
