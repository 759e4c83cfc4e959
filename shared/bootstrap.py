"""The composition root: builds every adapter from settings, once per process.

Entrypoints (the Flask apps, the Celery worker, the CLI) call :func:`bootstrap` and hand
the :class:`Container` down; nothing else builds engines, clients or connections.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING

import redis as redis_lib

from shared.config import Settings, load_settings, settings_env
from shared.db import Stores
from shared.events import EventLog
from shared.taskqueue import TaskQueue, make_celery

if TYPE_CHECKING:
    from shared.intake.committer import GroupCommitter
    from shared.intake.rows import RowWriter

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
    def committer(self) -> GroupCommitter:
        return make_committer(self)

    @cached_property
    def policy_cache(self):
        from shared.moderation.context import PolicyCache

        return PolicyCache()

    @cached_property
    def classifier_cache(self):
        from shared.classifier.cache import ModelCache

        return ModelCache()

    @cached_property
    def site_registrar(self):
        """Articles registered from their pages on first comment (shared.sites)."""
        from shared.sites.register import SiteRegistrar

        return SiteRegistrar(self.settings)

    @cached_property
    def spam_checker(self):
        from shared.spam import build_checker

        return build_checker(self.settings)

    @cached_property
    def akismet_pool(self):
        """Threads on which the Akismet calls of one batch run side by side."""
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(max_workers=AKISMET_BATCH_THREADS, thread_name_prefix="akismet")

    @cached_property
    def webhook_pool(self):
        """Connections to webhook receivers (shared.webhooks.delivery): each host resolved
        and checked as it is connected to, no proxy from the environment, no redirects."""
        import httpcore

        from shared.webhooks.addresses import GuardedBackend

        return httpcore.ConnectionPool(
            max_connections=64,
            keepalive_expiry=30,
            network_backend=GuardedBackend(self.settings.webhook_allow_private),
        )

    def offer_to_webhooks(self, conn, relayed) -> list[int]:
        """The event relay's fan-out to webhooks, in its transaction ``conn``: the new
        deliveries' ids (shared.webhooks.fanout)."""
        from shared.webhooks.fanout import fan_out

        return fan_out(conn, self.settings, relayed)

    def queue_deliveries(self, ids: list[int]) -> None:
        """Queue the first attempt of each new delivery (after the fan-out's commit)."""
        if ids:
            from shared.webhooks.delivery import send

            send(self, [(pk, 0) for pk in ids])

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
        if "site_registrar" in self.__dict__:
            self.site_registrar.close()
        if "akismet_pool" in self.__dict__:
            self.akismet_pool.shutdown(wait=False)
        if "webhook_pool" in self.__dict__:
            self.webhook_pool.close()


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the container for this process from ``settings`` (default: the environment)."""
    return Container(settings or load_settings())


# --- the host's intake writer -------------------------------------------------------------


# The intake modules are imported when a process first takes a comment, not with this
# module: workers and the CLI never do, and a worker must not create the intake's metrics
# before it names its multiprocess files (ops.use_host_qualified_ids).


def intake_writer_parts(container: Container) -> tuple[RowWriter, Callable[[list[dict]], None]]:
    """What the host's intake writer needs, wherever it runs: the row writer for this
    stack's stores and the hand-off to call after each commit."""
    from shared.articles import intake_article
    from shared.intake.rows import RowWriter
    from shared.intake.submit import hand_off

    stores = container.stores
    rows = RowWriter(
        stores.moderation_engine, lambda slug: intake_article(stores.articles_read_engine, slug)
    )
    return rows, lambda committed: hand_off(container, committed)


def intake_address(settings: Settings) -> str:
    """The socket name of the host's intake writer for this stack's stores and Redis."""
    from shared.intake.protocol import socket_address

    return socket_address(settings.database_url, settings.articles_url, settings.redis_url)


def make_committer(container: Container) -> GroupCommitter:
    """This process's end of the host's intake writer for this stack's stores."""
    from shared.intake.committer import GroupCommitter

    settings = container.settings
    return GroupCommitter(
        *intake_writer_parts(container),
        intake_address(settings),
        writer_command=(
            partial(_writer_command, settings) if settings.intake_writer == "process" else None
        ),
    )


def _writer_command(settings: Settings, listener_fd: int) -> tuple[list[str], dict[str, str]]:
    """The command and environment of a writer process serving ``listener_fd`` for this
    process, with this process's settings.

    It may run on the CPUs this process inherited (its parent's), not only on the one a
    gunicorn worker keeps to (``PARLEY_HTTP_CPU_AFFINITY``): the writer's work then goes to
    whichever CPU has room.
    """
    try:
        cpus = sorted(os.sched_getaffinity(os.getppid()))
    except (AttributeError, OSError):  # no affinity on this platform, or the parent is gone
        cpus = []
    argv = [
        sys.executable,
        "-m",
        "services.intake_writer",
        f"--listener-fd={listener_fd}",
        f"--cpus={','.join(map(str, cpus))}",
    ]
    return argv, {**os.environ, **settings_env(settings)}
