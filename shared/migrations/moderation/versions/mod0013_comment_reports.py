"""comment_reports: readers' reports of published comments

Revision ID: mod0013
Revises: mod0012
Create Date: 2026-12-07 02:00:00

Written by hand (issue 25 item 3). One row per reader per comment (the unique
constraint), the reader kept only as a hash (shared.moderation.reports.reader_key);
cleared_at marks the reports a moderator's approval (or dismissal) set aside.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0013"
down_revision: str | Sequence[str] | None = "mod0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comment_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("reader_kind", sa.String(length=16), nullable=False),
        sa.Column("reader_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("comment_id", "reader_key", name="uq_comment_reports_comment_reader"),
    )
    op.create_index(
        "ix_comment_reports_reader_key", "comment_reports", ["reader_key"], unique=False
    )
    op.create_index(
        "ix_comment_reports_open", "comment_reports", ["comment_id", "cleared_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_comment_reports_open", table_name="comment_reports")
    op.drop_index("ix_comment_reports_reader_key", table_name="comment_reports")
    op.drop_table("comment_reports")
