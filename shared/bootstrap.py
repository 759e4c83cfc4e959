"""The composition root: builds every adapter from settings, once per process.

Entrypoints (the Flask apps, the Celery worker, the CLI) call :func:`bootstrap` and hand
the :class:`Container` down; nothing else builds engines, clients or connections.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis as redis_lib

from shared.config import Settings, load_settings
from shared.db import Stores
from shared.events import EventLog
from shared.queue import TaskQueue, make_celery

# Akismet calls in flight per worker process, shared by all its task threads. A batch's
# wall time stays near one Akismet round trip; at 16 the pool itself capped a process at
# about 107 checks/s with a 150 ms Akismet (16 / 0.15 s).
AKISMET_BATCH_THREADS = 64


@dataclass
class Container:
    """Everything a process needs, built lazily: no connection is made until first use."""

    settings: Settings

    @cached_property
    def stores(self) -> Stores:
        return Stores.from_urls(self.settings.database_url, self.settings.articles_url)

    @cached_property
    def redis(self) -> redis_lib.Redis:
        return redis_lib.Redis.from_url(
            self.settings.redis_url,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=30,
            decode_responses=True,
        )

    @cached_property
    def celery(self):
        return make_celery(self.settings)

    @cached_property
    def queue(self) -> TaskQueue:
        return TaskQueue(self.celery)

    @cached_property
    def events(self) -> EventLog:
        return EventLog(self.redis)

    @cached_property
    def committer(self):
        from shared.intake import make_committer

        return make_committer(self)

    @cached_property
    def policy_cache(self):
        from shared.moderation.context import PolicyCache

        return PolicyCache()

    @cached_property
    def spam_checker(self):
        from shared.spam import build_checker

        return build_checker(self.settings)

    @cached_property
    def akismet_pool(self):
        """Threads on which the Akismet calls of one batch run side by side."""
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(max_workers=AKISMET_BATCH_THREADS, thread_name_prefix="akismet")

    def after_fork(self) -> None:
        """Drop connections inherited from a parent process."""
        if "stores" in self.__dict__:
            self.stores.dispose()
        if "redis" in self.__dict__:
            self.redis.connection_pool.reset()

    def close_committer(self) -> None:
        """Stop this process's end of the intake writer (serving it, if it did), if the
        process ever used it."""
        if "committer" in self.__dict__:
            self.committer.close()

    def close(self) -> None:
        self.close_committer()
        if "stores" in self.__dict__:
            self.stores.dispose(close=True)
        if "redis" in self.__dict__:
            self.redis.close()
        if "spam_checker" in self.__dict__:
            self.spam_checker.close()
        if "akismet_pool" in self.__dict__:
            self.akismet_pool.shutdown(wait=False)


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the container for this process from ``settings`` (default: the environment)."""
    return Container(settings or load_settings())
