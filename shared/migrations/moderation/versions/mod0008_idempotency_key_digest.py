"""Idempotency keys as their SHA-256: the keys already stored become their digest

Revision ID: mod0008
Revises: mod0007
Create Date: 2026-12-07 12:00:00

Written by hand. ``comments.idempotency_key`` keeps its type and unique constraint and now
holds the SHA-256 (hex) of the client's whole key (``shared.intake.submit.key_digest``),
so keys are compared whole and not kept as sent. The keys stored before this revision
are hashed the same way here, so a retry that spans the upgrade still gets its first
answer. Downgrade leaves the digests: a key cannot be recovered from its digest, and a
retry across the downgrade is then answered as a new request (a duplicate: 409).
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0008"
down_revision: str | Sequence[str] | None = "mod0007"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    comments = sa.table(
        "comments", sa.column("id", sa.String), sa.column("idempotency_key", sa.String)
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(comments.c.id, comments.c.idempotency_key).where(
            comments.c.idempotency_key.is_not(None)
        )
    ).all()
    change = (
        sa.update(comments)
        .where(comments.c.id == sa.bindparam("b_id"))
        .values(idempotency_key=sa.bindparam("b_key"))
    )
    for start in range(0, len(rows), _BATCH):
        conn.execute(
            change,
            [
                {
                    "b_id": id_,
                    "b_key": hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest(),
                }
                for id_, key in rows[start : start + _BATCH]
            ],
        )


def downgrade() -> None:
    pass
