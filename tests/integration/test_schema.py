"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.migrate import STORES, only_tables_of


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
