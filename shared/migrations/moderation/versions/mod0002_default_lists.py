"""default moderation lists

Revision ID: mod0002
Revises: mod0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0002"
down_revision: str | Sequence[str] | None = "mod0001"
branch_labels = None
depends_on = None

# A snapshot of shared.moderation.rules.DEFAULT_LISTS at the time of this migration:
# migrations must not change meaning when the code's defaults change later.
DEFAULTS = {
    "block_word": (
        "viagra",
        "cialis",
        "levitra",
        "casino",
        "online casino",
        "payday loan",
        "porn",
        "porno",
        "xxx",
        "escort service",
        "buy followers",
        "replica watches",
    ),
    "hold_word": (
        "crypto",
        "bitcoin",
        "forex",
        "telegram",
        "whatsapp",
        "work from home",
        "investment opportunity",
        "guaranteed profit",
        "binary options",
        "airdrop",
    ),
    "shortener": (
        "bit.ly",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "cutt.ly",
        "rebrand.ly",
        "tiny.cc",
        "shorturl.at",
        "rb.gy",
        "s.id",
        "v.gd",
        "bl.ink",
    ),
}


def upgrade() -> None:
    table = sa.table(
        "list_entries",
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.String),
    )
    now = sa.func.current_timestamp()
    rows = [
        {"kind": k, "value": v, "created_by": "defaults"} for k, vs in DEFAULTS.items() for v in vs
    ]
    conn = op.get_bind()
    for row in rows:
        conn.execute(table.insert().values(created_at=now, **row))


def downgrade() -> None:
    op.execute("DELETE FROM list_entries WHERE created_by = 'defaults'")
