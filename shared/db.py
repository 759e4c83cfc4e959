"""SQLAlchemy engines and session factories for the two stores.

The moderation store keeps every submission with its private data; the article store keeps
articles and published comments only. They may share one database or live apart; nothing
here assumes either. No connection is opened at import time.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_path(url: str) -> str | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite://" and ":memory:" not in url:
        return url[len(prefix) :].split("?", 1)[0]
    return None


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    """Create an engine with Parley's durability and concurrency settings.

    SQLite runs in WAL mode with ``synchronous=FULL`` (a committed comment survives a power
    cut) and a busy timeout, so concurrent writers from threads and processes wait for the
    lock instead of failing. PostgreSQL gets pre-ping so a restarted server is survived.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    path = _sqlite_path(url)
    if path:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 15, "check_same_thread": False},
            pool_size=20,
            max_overflow=20,
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
            # A multi-row INSERT into a table with unique constraints keeps a statement
            # journal (every page it changes, so that a violation undoes just that
            # statement). Past 64 KiB SQLite spills it to a new temporary file in /var/tmp:
            # the intake writer's every batch paid for creating, writing and unlinking
            # one. Temporary storage in memory keeps it there. (On the intake benchmark
            # the difference is within the noise, 24 interleaved rounds.)
            cur.execute("PRAGMA temp_store=MEMORY")
            # Each connection keeps its own page cache (SQLite's default: 2 MiB), and a
            # process pools up to 20 connections per engine: a worker's 32 threads left it
            # holding ~200 MiB more after a burst than before. The pages are in the
            # kernel's file cache anyway; 512 KiB per connection keeps the hot index pages
            # (bench.stack after a burst, one round each: the worker 214 MiB of PSS
            # against 249-287 MiB with the default, idle 87 MiB either way).
            cur.execute("PRAGMA cache_size=-512")
            cur.close()

        if readonly:

            @event.listens_for(engine, "begin")
            def _sqlite_read(conn):  # pragma: no cover - exercised by all tests
                conn.exec_driver_sql("BEGIN")

            return engine

        lock_path = path + ".writelock"
        held = threading.local()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - exercised by all tests
            # SQLite allows one writer at a time. Its busy handler polls with sleeps of
            # 1, 2, 5 … 100 ms, which under contention between processes leaves the lock
            # idle most of the time; a blocking flock queues writers in the kernel and
            # wakes the next one as soon as the lock is free.
            record = conn.connection._connection_record
            if not record.info.get("flocked"):
                if getattr(held, "record", None) not in (None, record):
                    raise RuntimeError(
                        "nested SQLite write transactions in one thread would deadlock"
                    )
                if "flock" not in record.info:
                    record.info["flock"] = open(lock_path, "a+b")  # noqa: SIM115 - closed on pool close
                fcntl.flock(record.info["flock"].fileno(), fcntl.LOCK_EX)
                record.info["flocked"] = True
                held.record = record
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        def _unlock(dbapi_conn, record, *_):  # pragma: no cover - exercised by all tests
            # On return to the pool, i.e. after the DBAPI commit or rollback has finished.
            if record.info.pop("flocked", False):
                fcntl.flock(record.info["flock"].fileno(), fcntl.LOCK_UN)
                held.record = None

        def _on_reset(dbapi_conn, record, reset_state):  # pragma: no cover
            _unlock(dbapi_conn, record)

        event.listen(engine, "checkin", _unlock)
        event.listen(engine, "reset", _on_reset)
        event.listen(
            engine,
            "close",
            lambda dbapi_conn, record: (
                _unlock(dbapi_conn, record),
                record.info.pop("flock").close() if "flock" in record.info else None,
            ),
        )
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@dataclass
class Stores:
    """Engines and session factories of both stores, built once per process."""

    moderation_engine: Engine
    articles_engine: Engine
    moderation: sessionmaker[Session]
    articles: sessionmaker[Session]
    # For reads only: on SQLite these never take the write lock; elsewhere the same engines.
    moderation_read_engine: Engine
    articles_read_engine: Engine
    moderation_read: sessionmaker[Session]
    articles_read: sessionmaker[Session]

    @classmethod
    def from_urls(cls, moderation_url: str, articles_url: str) -> Stores:
        mod = make_engine(moderation_url)
        art = mod if articles_url == moderation_url else make_engine(articles_url)
        mod_r = make_engine(moderation_url, readonly=True) if _sqlite_path(moderation_url) else mod
        if articles_url == moderation_url:
            art_r = mod_r
        else:
            art_r = make_engine(articles_url, readonly=True) if _sqlite_path(articles_url) else art
        return cls(
            moderation_engine=mod,
            articles_engine=art,
            moderation=sessionmaker(mod, expire_on_commit=False),
            articles=sessionmaker(art, expire_on_commit=False),
            moderation_read_engine=mod_r,
            articles_read_engine=art_r,
            moderation_read=sessionmaker(mod_r, expire_on_commit=False),
            articles_read=sessionmaker(art_r, expire_on_commit=False),
        )

    def engines(self) -> list[Engine]:
        """Every distinct engine, once."""
        seen: dict[int, Engine] = {}
        for engine in (
            self.moderation_engine,
            self.articles_engine,
            self.moderation_read_engine,
            self.articles_read_engine,
        ):
            seen.setdefault(id(engine), engine)
        return list(seen.values())

    @property
    def shared_database(self) -> bool:
        return self.moderation_engine is self.articles_engine

    def dispose(self, close: bool = False) -> None:
        """Drop pooled connections: after a fork (``close=False``: leave the parent's
        sockets alone), or at shutdown (``close=True``)."""
        for engine in self.engines():
            engine.dispose(close=close)


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
