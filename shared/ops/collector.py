"""``/metrics``: every process's counters plus gauges computed when scraped.

**/metrics aggregates every process with prometheus-client's multiprocess mode.** Counters
and histograms (:mod:`shared.ops.metrics`) are incremented wherever the work happens: the
api's gunicorn workers, each Celery worker, beat. With ``PROMETHEUS_MULTIPROC_DIR`` set,
each process writes its values to small mmap files in that directory and
:func:`render_metrics` sums the files of all processes at scrape time, so one scrape of
the dashboard's ``/metrics`` shows the whole installation. Files are named after
``<hostname>-<pid>`` (:func:`use_host_qualified_ids`), not the bare pid, so containers
sharing one volume on one host (where every container has a pid 1) never write the same
file. The directory must be emptied before a fresh start (``make run`` does). Without
the variable, ``/metrics`` shows this process's own counters only (tests, one-off tools).

Gauges describing shared state are not recorded by anyone: :class:`ParleyCollector`
computes them when scraped, from Redis (queue depths, live workers) and the database
(comments by status, oldest unchecked age, events not yet relayed, the classifier's
version), so they are right whichever process serves.
The ops page's series (:mod:`shared.ops.series`) read the same queue depths and age.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

from shared.ops.heartbeat import workers
from shared.taskqueue import QUEUES

log = logging.getLogger(__name__)

UNCHECKED = ("received", "checking")


def use_host_qualified_ids() -> bool:
    """Name this process's multiprocess files ``<hostname>-<pid>``; call before any metric
    exists (gunicorn's config, the Celery entrypoint). Returns whether multiprocess mode is on."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return False
    os.makedirs(path, exist_ok=True)  # a missing directory would fail at the first metric
    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue(lambda: process_identity(os.getpid()))
    return True


def process_identity(pid: int) -> str:
    """The multiprocess file suffix of process ``pid`` on this host (prometheus-client asks
    for it on every metric update)."""
    return f"{_host()}-{pid}"


@functools.cache
def _host() -> str:
    return socket.gethostname().replace("_", "-")


def queue_depths(redis) -> dict[str, int]:
    """Messages waiting in each queue, priority sub-lists included.

    kombu's Redis transport keeps a message with priority ``p`` on the list
    ``<queue>\\x06\\x16<step>`` (steps 3, 6, 9; 0 is the bare name), so LLEN of the bare
    name alone undercounts as soon as anyone sends with a priority.
    """
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    pipe = redis.pipeline(transaction=False)
    for name in QUEUES:
        for step in PRIORITY_STEPS:
            pipe.llen(f"{name}{Channel.sep}{step}" if step else name)
    lengths = iter(pipe.execute())
    return {name: sum(next(lengths) for _ in PRIORITY_STEPS) for name in QUEUES}


def oldest_unchecked_age(container, now: datetime | None = None) -> float:
    """Seconds since the oldest comment still waiting for its check was received (0 if none)."""
    from sqlalchemy import func, select

    from shared.models import Comment

    with container.stores.moderation_read() as session:
        oldest = session.scalar(
            select(func.min(Comment.created_at)).where(Comment.status.in_(UNCHECKED))
        )
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, ((now or datetime.now(UTC)) - oldest).total_seconds())


def comment_counts(container) -> dict[str, int]:
    """Comments per status (every status, zeros included), read without the write lock."""
    from shared.moderation.queries import counts_by_status

    with container.stores.moderation_read() as session:
        return counts_by_status(session)


def events_pending(container) -> int:
    """Events recorded in the outbox and not yet relayed to the stream (docs/contract.md §6)."""
    from shared.events import pending_count

    with container.stores.moderation_read() as session:
        return pending_count(session)


def classifier_version(container) -> int:
    """The newest stored model's version of the learned classifier (0 before the first)."""
    from shared.classifier.store import latest_version

    with container.stores.moderation_read() as session:
        return latest_version(session) or 0


class ParleyCollector:
    """The gauges of docs/contract.md §7 (plus ``parley_workers_alive``), computed when scraped.

    A source that cannot be read leaves its gauges out and reports
    ``parley_ops_source_up{source} 0`` rather than failing the whole scrape.
    """

    def __init__(self, container):
        self.container = container

    def collect(self):
        up = GaugeMetricFamily(
            "parley_ops_source_up", "Whether /metrics could read a source.", labels=["source"]
        )
        families, ok = self._redis_families()
        yield from families
        up.add_metric(["redis"], float(ok))
        families, ok = self._database_families()
        yield from families
        up.add_metric(["database"], float(ok))
        yield up

    def _redis_families(self):
        try:
            depths = queue_depths(self.container.redis)
            alive = sum(w["alive"] for w in workers(self.container.redis))
        except Exception as exc:  # Redis down: the scrape still answers
            log.debug("metrics: redis unreadable", extra={"error": str(exc)})
            return [], False
        depth = GaugeMetricFamily(
            "parley_queue_depth", "Messages waiting per queue.", labels=["queue"]
        )
        for name, value in depths.items():
            depth.add_metric([name], value)
        workers_alive = GaugeMetricFamily(
            "parley_workers_alive", "Workers with a fresh heartbeat.", value=alive
        )
        return [depth, workers_alive], True

    def _database_families(self):
        try:
            counts = comment_counts(self.container)
            age = oldest_unchecked_age(self.container)
            pending = events_pending(self.container)
            version = classifier_version(self.container)
        except Exception as exc:
            log.debug("metrics: database unreadable", extra={"error": str(exc)})
            return [], False
        by_status = GaugeMetricFamily("parley_comments", "Comments per status.", labels=["status"])
        for status, value in counts.items():
            by_status.add_metric([status], value)
        oldest = GaugeMetricFamily(
            "parley_oldest_unchecked_age_seconds",
            "Age of the oldest comment received but not yet decided (0 if none).",
            value=age,
        )
        events = GaugeMetricFamily(
            "parley_events_pending",
            "Events recorded with their change and not yet relayed to the stream.",
            value=pending,
        )
        model = GaugeMetricFamily(
            "parley_classifier_version",
            "Version of the learned classifier's newest model (0 before the first).",
            value=version,
        )
        return [by_status, oldest, events, model], True


class _ThisProcess:
    """The default registry's metrics (this process only), when not in multiprocess mode."""

    def collect(self):
        from prometheus_client import REGISTRY

        import shared.ops.metrics  # noqa: F401  (registers Parley's counters)

        yield from REGISTRY.collect()


def render_metrics(container, accept: str | None = None) -> tuple[bytes, str]:
    """The Prometheus exposition of every process's counters plus the scrape-time gauges.

    ``accept`` is the scraper's Accept header (OpenMetrics when asked for, else the
    classic text format). Returns ``(body, content_type)``.
    """
    registry = CollectorRegistry(auto_describe=False)
    # State first, counters second: counters are then read after the state they account
    # for, so a scrape rarely shows a decision in the database that is not yet counted.
    registry.register(ParleyCollector(container))
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        multiprocess.MultiProcessCollector(registry, path=path)
    else:
        registry.register(_ThisProcess())
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
