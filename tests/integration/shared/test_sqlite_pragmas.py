"""Every SQLite connection Parley opens has its durability and memory settings
(shared.db.make_engine): WAL, synchronous=FULL, foreign keys, temporary storage in memory
and a 512 KiB page cache (issue 24: pooled connections' default 2 MiB caches were most of a
worker's growth after a burst)."""

from __future__ import annotations

from shared.db import make_engine


def test_every_connection_has_the_settings(tmp_path):
    for readonly in (False, True):
        engine = make_engine(f"sqlite:///{tmp_path}/p.db", readonly=readonly)
        try:
            with engine.connect() as conn:
                pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
                assert pragma("journal_mode") == "wal"
                assert pragma("synchronous") == 2  # FULL
                assert pragma("foreign_keys") == 1
                assert pragma("temp_store") == 2  # MEMORY
                assert pragma("cache_size") == -512
        finally:
            engine.dispose()
