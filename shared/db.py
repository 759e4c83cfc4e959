"""SQLAlchemy engines and session factories for the two stores.

The moderation store keeps every submission with its private data; the article store keeps
articles and published comments only. They may share one database or live apart; nothing
here assumes either. No connection is opened at import time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_path(url: str) -> str | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite://" and ":memory:" not in url:
        return url[len(prefix):].split("?", 1)[0]
    return None


def make_engine(url: str) -> Engine:
    """Create an engine with Parley's durability and concurrency settings.

    SQLite runs in WAL mode with ``synchronous=FULL`` (a committed comment survives a power
    cut) and a busy timeout, so concurrent writers from threads and processes wait for the
    lock instead of failing. PostgreSQL gets pre-ping so a restarted server is survived.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    path = _sqlite_path(url)
    if path:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 15, "check_same_thread": False},
            pool_size=20, max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by all tests
            # pysqlite's implicit BEGIN is turned off so that SQLAlchemy's "begin" event
            # below issues BEGIN IMMEDIATE: writers take the lock up front instead of
            # deadlocking on an upgrade from a read lock.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - exercised by all tests
            # SQLite allows one writer at a time; short transactions keep this cheap, and
            # PostgreSQL is the setting for heavy concurrent use.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@dataclass
class Stores:
    """Engines and session factories of both stores, built once per process."""

    moderation_engine: Engine
    articles_engine: Engine
    moderation: sessionmaker[Session]
    articles: sessionmaker[Session]

    @classmethod
    def from_urls(cls, moderation_url: str, articles_url: str) -> Stores:
        mod = make_engine(moderation_url)
        art = mod if articles_url == moderation_url else make_engine(articles_url)
        return cls(
            moderation_engine=mod,
            articles_engine=art,
            moderation=sessionmaker(mod, expire_on_commit=False),
            articles=sessionmaker(art, expire_on_commit=False),
        )

    @property
    def shared_database(self) -> bool:
        return self.moderation_engine is self.articles_engine

    def dispose(self) -> None:
        """Drop pooled connections (after a fork, or at shutdown)."""
        self.moderation_engine.dispose(close=False)
        if not self.shared_database:
            self.articles_engine.dispose(close=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commits if the block succeeds, rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
