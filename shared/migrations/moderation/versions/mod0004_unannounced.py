"""comments.unannounced: comments whose receipt could not be handed to Redis

Revision ID: mod0004
Revises: mod0003
Create Date: 2026-11-28 21:10:00

Written by hand. The index is partial: it holds only the flagged rows, so inserting a new
comment never touches it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0004"
down_revision: str | Sequence[str] | None = "mod0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unannounced", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index(
        "ix_comments_unannounced",
        "comments",
        ["created_at"],
        unique=False,
        sqlite_where=sa.text("unannounced = 1"),
        postgresql_where=sa.text("unannounced"),
    )


def downgrade() -> None:
    op.drop_index("ix_comments_unannounced", table_name="comments")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("unannounced")
