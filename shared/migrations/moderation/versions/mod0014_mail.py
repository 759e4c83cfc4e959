"""comments.notify, mail_log, mail_optouts, moderator_digests: e-mail notifications

Revision ID: mod0014
Revises: mod0013
Create Date: 2026-12-07 02:00:00

Written by hand (issue 26 item 2). A commenter's opt-in is stored with the comment
(``notify``, false for every comment stored before); every mail Parley decides to send is
a row of ``mail_log`` (also its queue); ``mail_optouts`` keeps only the SHA-256 of each
unsubscribed address; ``moderator_digests`` holds each moderator's last digest time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0014"
down_revision: str | Sequence[str] | None = "mod0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "mail_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_mail_log_to_address", "mail_log", ["to_address"], unique=False)
    op.create_index(
        "ix_mail_log_status_next", "mail_log", ["status", "next_attempt_at"], unique=False
    )
    op.create_index("ix_mail_log_comment_id", "mail_log", ["comment_id"], unique=False)
    op.create_table(
        "mail_optouts",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    op.create_table(
        "moderator_digests",
        sa.Column("moderator_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["moderator_id"], ["moderators.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("moderator_id"),
    )


def downgrade() -> None:
    op.drop_table("moderator_digests")
    op.drop_table("mail_optouts")
    op.drop_index("ix_mail_log_comment_id", table_name="mail_log")
    op.drop_index("ix_mail_log_status_next", table_name="mail_log")
    op.drop_index("ix_mail_log_to_address", table_name="mail_log")
    op.drop_table("mail_log")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("notify")
