"""default lists: words with an innocent everyday sense move from block to hold words

Revision ID: mod0010
Revises: mod0009
Create Date: 2026-12-09 10:05:00

Written by hand (issue 23). Block words are authoritative (spam without asking Akismet),
so "xxx" (a sign-off for kisses), "casino", "porn" and "porno" become hold words; "xxx"
and "crypto" also count only next to their spammy context (shared.moderation.senses, in
the code, not in the data). A site's entry moves only while it is still the default one
(created_by 'defaults', as mod0002 seeded it): an entry a moderator added or re-added is
theirs and stays as it is. Where a moderator already holds the word, the default block
entry is only removed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mod0010"
down_revision: str | Sequence[str] | None = "mod0009"
branch_labels = None
depends_on = None

# A snapshot: (value, from kind, to kind).
MOVES = (
    ("xxx", "block_word", "hold_word"),
    ("casino", "block_word", "hold_word"),
    ("porn", "block_word", "hold_word"),
    ("porno", "block_word", "hold_word"),
)


def _move(source: str, target: str, value: str) -> None:
    entries = sa.table(
        "list_entries",
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("created_by", sa.String),
    )
    other = entries.alias("other")
    taken = sa.exists().where(other.c.kind == target, other.c.value == value)
    default = sa.and_(
        entries.c.kind == source, entries.c.value == value, entries.c.created_by == "defaults"
    )
    conn = op.get_bind()
    # The target list has the word already (a moderator's entry): the default one goes.
    conn.execute(sa.delete(entries).where(default, taken))
    conn.execute(sa.update(entries).where(default).values(kind=target))


def upgrade() -> None:
    for value, source, target in MOVES:
        _move(source, target, value)


def downgrade() -> None:
    for value, source, target in MOVES:
        _move(target, source, value)
