"""The databases and Redis of the tests and benchmarks: where they are, fresh migrated
stores (SQLite files or PostgreSQL databases), and emptying them between tests."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

TEST_REDIS = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_ADMIN = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

_pg_state: dict = {}


def postgres_available() -> bool:
    """Whether the PostgreSQL server of :data:`PG_ADMIN` answers (asked once per process)."""
    if "ok" not in _pg_state:
        try:
            engine = sa.create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_state["ok"] = True
        except Exception as exc:  # noqa: BLE001
            _pg_state["ok"] = False
            _pg_state["why"] = str(exc).splitlines()[0]
    return _pg_state["ok"]


def postgres_missing() -> str | None:
    """Why PostgreSQL was found unavailable, if it was asked and was; None otherwise."""
    if _pg_state.get("ok") is False:
        return _pg_state.get("why")
    return None


def _admin_engine(server_url: str) -> sa.Engine:
    # The driver this project uses, whatever scheme the URL was given with.
    url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def create_database(server_url: str, name: str) -> str:
    """A new, empty database ``name`` (dropped first if it exists) on the PostgreSQL server
    of ``server_url`` (the URL of any existing database there); its URL, in the scheme of
    ``server_url``."""
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` of that server, connections and all."""
    engine = _admin_engine(server_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def sqlite_store(folder: Path, name: str = "parley") -> str:
    """A migrated SQLite file ``<folder>/<name>.db`` holding both stores; its URL."""
    from shared.migrate import upgrade

    url = f"sqlite:///{folder}/{name}.db"
    upgrade(url, url)
    return url


def truncate(url: str, metadata) -> None:
    """Empty every table; the moderation store gets its default lists back, as migrated."""
    from shared.models import ListEntry, ModerationBase
    from shared.moderation.rules import DEFAULT_LISTS

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        if metadata is ModerationBase.metadata:
            rows = [
                {"kind": k, "value": v, "created_by": "defaults"}
                for k, vs in DEFAULT_LISTS.items()
                for v in vs
            ]
            conn.execute(sa.insert(ListEntry), rows)
    engine.dispose()
