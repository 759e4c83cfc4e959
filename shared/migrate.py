"""Schema migrations of both stores, with Alembic.

Each store has its own script directory and its own version table, so the two stores can
share one database or live in two. ``parley migrate`` (and ``make run`` / ``make test``)
calls :func:`upgrade`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config

from shared.models import ArticleBase, ModerationBase

HERE = Path(__file__).parent / "migrations"
STORES = {
    "moderation": (ModerationBase.metadata, "alembic_version_moderation"),
    "articles": (ArticleBase.metadata, "alembic_version_articles"),
}


def alembic_config(store: str, url: str) -> Config:
    """An Alembic config for one store, pointed at ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / store))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["store"] = store
    return cfg


def upgrade(moderation_url: str, articles_url: str, revision: str = "head") -> None:
    """Bring both stores to ``revision``."""
    for store, url in (("moderation", moderation_url), ("articles", articles_url)):
        upgrade_store(store, url, revision)


def upgrade_store(store: str, url: str, revision: str = "head") -> None:
    """Bring one store (``moderation`` or ``articles``) to ``revision``."""
    from shared.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(store, url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def only_tables_of(metadata):
    """Alembic's ``include_name`` for one store: the stores may share a database, so
    never compare against the other's tables."""
    return lambda name, type_, *_: type_ != "table" or name in metadata.tables


def run_migrations(store: str) -> None:
    """Body of each store's env.py."""
    metadata, version_table = STORES[store]
    cfg = context.config
    connection = cfg.attributes.get("connection")
    opts = dict(
        target_metadata=metadata,
        include_name=only_tables_of(metadata),
        version_table=version_table,
        render_as_batch=True,  # SQLite needs batch mode for ALTERs
        compare_type=True,
    )
    if connection is None:
        from shared.db import make_engine

        engine = make_engine(cfg.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            context.configure(connection=conn, **opts)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
    else:
        context.configure(connection=connection, **opts)
        with context.begin_transaction():
            context.run_migrations()
