"""art0002 on an article store that already holds articles: each takes the moderation
mode its comments_open says (auto, or closed), on SQLite and PostgreSQL, and down again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from shared.db import make_engine
from shared.migrate import alembic_config, upgrade_store
from tests.support.stores import PG_ADMIN, create_database, drop_database, postgres_available

ARTICLES = sa.table(
    "articles",
    sa.column("slug"),
    sa.column("title"),
    sa.column("url"),
    sa.column("summary"),
    sa.column("comments_open", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/articles.db"
        return
    if not postgres_available():
        pytest.skip("PostgreSQL not available")
    name = f"parley_test_{uuid.uuid4().hex[:8]}_art0002"
    yield create_database(PG_ADMIN, name)
    drop_database(PG_ADMIN, name)


def test_existing_articles_take_the_mode_of_comments_open(store_url):
    upgrade_store("articles", store_url, "art0001")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        for slug, open_ in (("open-story", True), ("closed-story", False)):
            conn.execute(
                sa.insert(ARTICLES).values(
                    slug=slug,
                    title=slug,
                    url=f"https://news.example/{slug}",
                    summary="",
                    comments_open=open_,
                    created_at=now,
                    updated_at=now,
                )
            )
    engine.dispose()

    upgrade_store("articles", store_url)
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT slug, comments_open, moderation FROM articles"))
        assert {(slug, bool(open_), mode) for slug, open_, mode in rows} == {
            ("open-story", True, "auto"),
            ("closed-story", False, "closed"),
        }
        # A row written without the column (an older process during a rolling update)
        # takes the default.
    with engine.begin() as conn:
        conn.execute(
            sa.insert(ARTICLES).values(
                slug="late",
                title="late",
                url="https://news.example/late",
                summary="",
                comments_open=True,
                created_at=now,
                updated_at=now,
            )
        )
        assert conn.scalar(sa.text("SELECT moderation FROM articles WHERE slug='late'")) == "auto"
    engine.dispose()

    migrating = make_engine(store_url)
    with migrating.begin() as conn:
        cfg = alembic_config("articles", store_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "art0001")
    migrating.dispose()
    engine = sa.create_engine(store_url)
    columns = [c["name"] for c in sa.inspect(engine).get_columns("articles")]
    engine.dispose()
    assert "moderation" not in columns and "comments_open" in columns
