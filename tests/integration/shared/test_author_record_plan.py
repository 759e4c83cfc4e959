"""Each check counts the author's published and spam comments (shared/moderation/context.py
_HISTORY). On SQLite that must be an index lookup on (author_key, status), never a walk
over every published comment of the site: with the status index chosen instead, checks
slowed as the site grew (issue 24; mod0018)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.moderation.context import _HISTORY


@pytest.fixture
def sqlite_engine(container):
    engine = container.stores.moderation_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner (PostgreSQL plans by its statistics)")
    return engine


def test_the_author_record_is_an_index_lookup(sqlite_engine):
    compiled = _HISTORY.compile(dialect=sqlite_engine.dialect)
    params = compiled.construct_params(
        {
            "h_id": "x",
            "h_key": "k",
            "h_hash": "h",
            "h_since": datetime(2026, 1, 1, tzinfo=UTC),
        }
    )
    values = [params[name] for name in compiled.positiontup]
    with sqlite_engine.connect() as conn:
        plan = [
            row[-1]
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", tuple(values))
        ]
    searches = [step for step in plan if "comments" in step]
    assert len(searches) == 3, plan
    author = [s for s in searches if "author_key" in s]
    assert len(author) == 2 and all("ix_comments_author_key_status" in s for s in author), plan
    assert not any(s.startswith("SCAN") for s in searches), plan
