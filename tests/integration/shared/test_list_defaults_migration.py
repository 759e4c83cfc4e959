"""The migration that moves words with an innocent sense from block to hold words
changes a site's lists only where the site still has the default entry (issue 23)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from shared.db import make_engine
from shared.migrate import alembic_config, upgrade_store
from shared.models import ListEntry, utcnow
from shared.moderation.rules import DEFAULT_LISTS

MOVED = ("xxx", "casino", "porn", "porno")
BEFORE = "mod0009"  # the revision before the move
MODERATOR = "mod@news.example"

ENTRIES = sa.table(
    "list_entries",
    sa.column("kind"),
    sa.column("value"),
    sa.column("created_at"),
    sa.column("created_by"),
)


def entries(url: str) -> set[tuple[str, str, str]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ListEntry.kind, ListEntry.value, ListEntry.created_by))
        found = {(kind, value, by) for kind, value, by in rows}
    engine.dispose()
    return found


def test_default_block_words_with_innocent_senses_become_hold_words(tmp_path):
    url = f"sqlite:///{tmp_path}/moderation.db"
    upgrade_store("moderation", url, BEFORE)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        # A moderator removed the default "porn" and added it again: theirs, kept.
        porn = (ENTRIES.c.kind == "block_word") & (ENTRIES.c.value == "porn")
        conn.execute(sa.delete(ENTRIES).where(porn))
        for kind, value in (("block_word", "porn"), ("hold_word", "casino")):
            # A moderator already holds "casino": the default block entry only goes.
            conn.execute(
                sa.insert(ENTRIES).values(
                    kind=kind, value=value, created_at=utcnow(), created_by=MODERATOR
                )
            )
    engine.dispose()

    upgrade_store("moderation", url)
    after = entries(url)
    assert ("hold_word", "xxx", "defaults") in after
    assert ("hold_word", "porno", "defaults") in after
    assert ("block_word", "porn", MODERATOR) in after  # the moderator's own, kept
    assert ("hold_word", "casino", MODERATOR) in after
    blocked = {value for kind, value, _ in after if kind == "block_word"}
    assert blocked.isdisjoint({"xxx", "casino", "porno"})
    # Every other default is where it was: the site's defaults are today's, but for the
    # two words the moderator had made their own.
    defaults = {(k, v) for k, vs in DEFAULT_LISTS.items() for v in vs}
    kept = {(k, v) for k, v, by in after if by == "defaults"}
    assert kept == defaults - {("hold_word", "porn"), ("hold_word", "casino")}


def test_downgrade_moves_the_defaults_back(tmp_path):
    url = f"sqlite:///{tmp_path}/moderation.db"
    upgrade_store("moderation", url)
    engine = make_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config("moderation", url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, BEFORE)
    engine.dispose()
    after = entries(url)
    for word in MOVED:
        assert ("block_word", word, "defaults") in after
        assert ("hold_word", word, "defaults") not in after
