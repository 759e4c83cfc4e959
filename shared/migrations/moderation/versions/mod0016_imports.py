"""import_sources and imported_comments: what ``parley import`` stored, so a rerun adds nothing

Revision ID: mod0016
Revises: mod0014
Create Date: 2026-12-07 02:00:00

Written by hand (issue 25 item 5). Both start empty. ``imported_comments`` is never
deleted with its comment: a comment purged or erased after its import must not come back
when the same file is imported again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0016"
down_revision: str | Sequence[str] | None = "mod0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_sources",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "imported_comments",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "source_id"),
    )


def downgrade() -> None:
    op.drop_table("imported_comments")
    op.drop_table("import_sources")
