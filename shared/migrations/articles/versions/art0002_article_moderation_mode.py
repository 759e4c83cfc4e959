"""articles.moderation: each article's moderation mode (auto, premoderate, closed)

Revision ID: art0002
Revises: art0001
Create Date: 2026-12-07 02:00:00

Written by hand. Existing articles take ``auto``, or ``closed`` where comments were closed:
the mode and ``comments_open`` say the same thing from the start (docs/contract.md §4).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "art0002"
down_revision: str | Sequence[str] | None = "art0001"
branch_labels = None
depends_on = None

ARTICLES = sa.table("articles", sa.column("comments_open", sa.Boolean), sa.column("moderation"))


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("moderation", sa.String(length=16), nullable=False, server_default="auto")
        )
    op.execute(
        ARTICLES.update().where(ARTICLES.c.comments_open.is_(False)).values(moderation="closed")
    )


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("moderation")
