"""training_examples and classifier_models: the learned classifier's labels and versions

Revision ID: mod0012
Revises: mod0011
Create Date: 2026-12-09 12:00:00

Written by hand. Both start empty: the classifier stays silent until moderators' labels
(or ``parley train import``) give it enough examples of each class.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0012"
down_revision: str | Sequence[str] | None = "mod0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("author_url", sa.String(length=2048), nullable=True),
        sa.Column("label", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("comment_id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_index(
        "ix_training_examples_updated_at", "training_examples", ["updated_at"], unique=False
    )
    op.create_table(
        "classifier_models",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("labels_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("n_ham", sa.Integer(), nullable=False),
        sa.Column("n_spam", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("coef", sa.LargeBinary(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )


def downgrade() -> None:
    op.drop_table("classifier_models")
    op.drop_index("ix_training_examples_updated_at", table_name="training_examples")
    op.drop_table("training_examples")
