"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.migrate import STORES, only_tables_of, upgrade_store
from shared.models import Comment, new_id
from tests.support.factories import stored_comment_row


@pytest.mark.parametrize("backend", ["sqlite-split", "postgres-split"], indirect=True)
def test_migrated_schema_matches_the_models(backend, database_urls):
    urls = dict(zip(("moderation", "articles"), database_urls(backend), strict=True))
    for store, (metadata, _) in STORES.items():
        engine = sa.create_engine(urls[store])
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn,
                    opts={"compare_type": True, "include_name": only_tables_of(metadata)},
                )
                assert compare_metadata(context, metadata) == [], store
        finally:
            engine.dispose()


def test_unannounced_column_is_added_to_stored_comments(tmp_path):
    """mod0004 on a store that already holds comments: they keep their rows, unflagged."""
    url = f"sqlite:///{tmp_path}/moderation.db"
    upgrade_store("moderation", url, "mod0003")
    engine = sa.create_engine(url)
    columns = [sa.column(c.name, c.type) for c in Comment.__table__.c if c.name != "unannounced"]
    values = stored_comment_row(id=new_id())
    with engine.begin() as conn:
        conn.execute(sa.insert(sa.table("comments", *columns)), values)
    engine.dispose()

    upgrade_store("moderation", url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Comment.id, Comment.unannounced)).all()
    engine.dispose()
    assert rows == [(values["id"], False)]
