"""comments (author_key, status): the author's record in one index lookup

Revision ID: mod0018
Revises: mod0017
Create Date: 2026-12-07 02:50:00

Written by hand (issue 24). Every check counts the author's published and spam comments
(shared/moderation/context.py). With one index on author_key and another on
(status, created_at), SQLite's planner took the status index: each check scanned every
published comment of the site, so the checks slowed as the site grew (a worker's drain
of a burst fell to a third after 17,000 comments). One index on (author_key, status)
answers both counts by lookup; it replaces the one on author_key alone, its prefix.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "mod0018"
down_revision: str | Sequence[str] | None = "mod0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_comments_author_key_status", "comments", ["author_key", "status"], unique=False
    )
    op.drop_index("ix_comments_author_key", table_name="comments")


def downgrade() -> None:
    op.create_index("ix_comments_author_key", "comments", ["author_key"], unique=False)
    op.drop_index("ix_comments_author_key_status", table_name="comments")
