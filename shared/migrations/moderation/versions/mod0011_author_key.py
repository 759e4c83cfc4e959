"""comments.author_key and comments.author_verified: reputation the reader holds

Revision ID: mod0011
Revises: mod0010
Create Date: 2026-12-09 12:00:00

Written by hand (issue 22 item 5). The author's record is counted by the commenter key's
hash (shared.commenter), not by the e-mail address anyone can type; comments stored before
this revision have no key and count for no one. author_verified says the host site signed
for the address (an author_token); none was before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0011"
down_revision: str | Sequence[str] | None = "mod0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("author_verified", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index("ix_comments_author_key", "comments", ["author_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_comments_author_key", table_name="comments")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("author_verified")
        batch_op.drop_column("author_key")
