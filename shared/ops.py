"""Operations data: ``/metrics``, the ops page's hourly series and worker heartbeats.

**/metrics aggregates every process with prometheus-client's multiprocess mode.** Counters
and histograms (:mod:`shared.metrics`) are incremented wherever the work happens: the
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
(comments by status, oldest unchecked age), so they are right whichever process serves.

**The ops page's series live in Redis**, cheap to write and shared by every container:
the pipeline and the Akismet client bump per-minute hash fields (:func:`record_decisions`,
:func:`record_akismet`), a beat task samples queue depths every 15 s
(:func:`sample`), and everything expires after two hours. Latency percentiles are
approximate: observations are counted in fixed buckets per minute and a percentile is
interpolated linearly inside its bucket, so its error is at most that bucket's width.
Recording never raises into the pipeline: with Redis unreachable an increment is skipped
(debug log) and the recorder stays quiet for ten seconds instead of slowing checks down.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import time
from bisect import bisect_left
from datetime import UTC, datetime, timedelta

import redis as redis_lib
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

from shared.taskqueue import QUEUES

log = logging.getLogger(__name__)

SERIES_TTL = 2 * 3600
MINUTE_KEY = "parley:ops:minute:{stamp}"
SAMPLES_KEY = "parley:ops:samples"
SAMPLE_SECONDS = 15.0

WORKERS_KEY = "parley:workers"  # name -> last heartbeat, kept for the ops page's "last seen"
HEARTBEAT_KEY = "parley:worker:{name}"
HEARTBEAT_TTL = 30
HEARTBEAT_SECONDS = 10
FORGET_WORKER_AFTER = timedelta(hours=1)

DECISIONS = ("published", "held", "spam", "discarded")
AKISMET_OK = frozenset({"ham", "spam", "discard", "ok"})
UNCHECKED = ("received", "checking")
# Upper bounds of the per-minute latency buckets (a last, open bucket catches the rest).
AKISMET_MS_BOUNDS = (5, 10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000)
CHECK_S_BOUNDS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
RECORDER_BACKOFF = 10.0


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- prometheus ---------------------------------------------------------------------


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


class ParleyCollector:
    """The gauges of CONTRACT §7 (plus ``parley_workers_alive``), computed when scraped.

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
        return [by_status, oldest], True


class _ThisProcess:
    """The default registry's metrics (this process only), when not in multiprocess mode."""

    def collect(self):
        from prometheus_client import REGISTRY

        import shared.metrics  # noqa: F401  (registers Parley's counters)

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


# --- per-minute series ----------------------------------------------------------------

_clients: dict[str, redis_lib.Redis] = {}
_clients_lock = threading.Lock()
_quiet_until: dict[str, float] = {}  # per Redis URL: skip recording until this monotonic time


def _recorder_client(url: str) -> redis_lib.Redis:
    # Short timeouts of its own: a sick Redis must not stretch a check by seconds.
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.setdefault(
                url,
                redis_lib.Redis.from_url(
                    url, socket_connect_timeout=0.5, socket_timeout=0.5, decode_responses=True
                ),
            )
    return client


def minute_key(at: datetime) -> str:
    return MINUTE_KEY.format(stamp=at.astimezone(UTC).strftime("%Y%m%d%H%M"))


def _bump(redis_url: str | None, fields: dict[str, int]) -> None:
    if not redis_url or time.monotonic() < _quiet_until.get(redis_url, 0.0):
        return
    try:
        key = minute_key(datetime.now(UTC))
        pipe = _recorder_client(redis_url).pipeline(transaction=False)
        for name, amount in fields.items():
            pipe.hincrby(key, name, amount)
        pipe.expire(key, SERIES_TTL)
        pipe.execute()
    except Exception as exc:  # never into the pipeline: the series is best effort
        _quiet_until[redis_url] = time.monotonic() + RECORDER_BACKOFF
        log.debug("ops series not recorded", extra={"error": str(exc)})


def record_decisions(redis_url: str | None, decisions: list[tuple[str, float | None]]) -> None:
    """Count decisions (each with its receipt→decision latency, or None for a recheck) in
    this minute's ops series, in one round trip."""
    fields: dict[str, int] = {}
    for decision, check_seconds in decisions:
        names = [f"decided:{decision}"]
        if check_seconds is not None:
            names.append(f"check_s:{bisect_left(CHECK_S_BOUNDS, check_seconds)}")
        for name in names:
            fields[name] = fields.get(name, 0) + 1
    if fields:
        _bump(redis_url, fields)


def record_akismet(redis_url: str | None, endpoint: str, outcome: str, seconds: float) -> None:
    """Count an Akismet request (an error unless Akismet answered) and its duration."""
    fields = {
        "akismet:requests": 1,
        f"akismet_ms:{bisect_left(AKISMET_MS_BOUNDS, seconds * 1000)}": 1,
    }
    if outcome not in AKISMET_OK:
        fields["akismet:errors"] = 1
    _bump(redis_url, fields)


def sample(container) -> dict:
    """Store one sample of the queue depths and the oldest unchecked age (beat, every 15 s)."""
    at = time.time()
    entry = {
        "at": at,
        "queues": queue_depths(container.redis),
        "oldest_unchecked_age": oldest_unchecked_age(container),
    }
    pipe = container.redis.pipeline(transaction=False)
    pipe.zadd(SAMPLES_KEY, {json.dumps(entry, sort_keys=True): at})
    pipe.zremrangebyscore(SAMPLES_KEY, "-inf", at - SERIES_TTL)
    pipe.expire(SAMPLES_KEY, SERIES_TTL)
    pipe.execute()
    return entry


def percentile(counts: list[int], bounds, q: float) -> float:
    """The ``q`` quantile of bucketed observations, interpolated within its bucket."""
    total = sum(counts)
    if not total:
        return 0.0
    rank, seen = q * total, 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low = bounds[index - 1] if index else 0.0
            high = bounds[index] if index < len(bounds) else low  # the open bucket: its floor
            return round(low + (high - low) * (rank - seen) / count, 3)
        seen += count
    return float(bounds[-1])


def _buckets(fields: dict, prefix: str, bounds) -> list[int]:
    return [int(fields.get(f"{prefix}:{i}", 0)) for i in range(len(bounds) + 1)]


def ops_series(container, now: datetime | None = None) -> dict:
    """The last hour, minute by minute, for the ops page (60 points per series, oldest
    first; a minute without data reads 0). Raises ``redis.RedisError`` if Redis is down."""
    now = now or datetime.now(UTC)
    last = now.astimezone(UTC).replace(second=0, microsecond=0)
    minutes = [last - timedelta(minutes=59 - i) for i in range(60)]
    redis = container.redis
    pipe = redis.pipeline(transaction=False)
    for minute in minutes:
        pipe.hgetall(minute_key(minute))
    pipe.zrangebyscore(SAMPLES_KEY, minutes[0].timestamp(), "+inf")
    *hashes, raw_samples = pipe.execute()

    depth = {name: [0] * 60 for name in QUEUES}
    age = [0.0] * 60
    for raw in raw_samples:  # several samples a minute: the ops page shows the worst
        entry = json.loads(raw)
        index = int((entry["at"] - minutes[0].timestamp()) // 60)
        if 0 <= index < 60:
            for name in QUEUES:
                depth[name][index] = max(depth[name][index], int(entry["queues"].get(name, 0)))
            age[index] = max(age[index], round(float(entry["oldest_unchecked_age"]), 1))

    def column(field: str) -> list[int]:
        return [int(h.get(field, 0)) for h in hashes]

    akismet_buckets = [_buckets(h, "akismet_ms", AKISMET_MS_BOUNDS) for h in hashes]
    check_buckets = [_buckets(h, "check_s", CHECK_S_BOUNDS) for h in hashes]
    return {
        "generated_at": iso(now),
        "minutes": [iso(m) for m in minutes],
        "queue_depth": depth,
        "oldest_unchecked_age": age,
        "decisions": {d: column(f"decided:{d}") for d in DECISIONS},
        "akismet": {
            "requests": column("akismet:requests"),
            "errors": column("akismet:errors"),
            "p50_ms": [percentile(b, AKISMET_MS_BOUNDS, 0.5) for b in akismet_buckets],
            "p99_ms": [percentile(b, AKISMET_MS_BOUNDS, 0.99) for b in akismet_buckets],
        },
        "check_latency": {
            "p50_s": [percentile(b, CHECK_S_BOUNDS, 0.5) for b in check_buckets],
            "p99_s": [percentile(b, CHECK_S_BOUNDS, 0.99) for b in check_buckets],
        },
        "workers": workers(redis, now),
    }


# --- worker heartbeats ----------------------------------------------------------------


def write_heartbeat(redis, name: str, active: int, pid: int | None = None) -> dict:
    """Announce worker ``name`` alive for the next :data:`HEARTBEAT_TTL` seconds."""
    beat = {
        "name": name,
        "pid": pid or os.getpid(),
        "active": int(active),
        "at": iso(datetime.now(UTC)),
    }
    payload = json.dumps(beat)
    pipe = redis.pipeline(transaction=False)
    pipe.set(HEARTBEAT_KEY.format(name=name), payload, ex=HEARTBEAT_TTL)
    pipe.hset(WORKERS_KEY, name, payload)
    pipe.execute()
    return beat


def clear_heartbeat(redis, name: str) -> None:
    """A worker leaving on purpose: not alive any more, but remembered as last seen."""
    redis.delete(HEARTBEAT_KEY.format(name=name))


def workers(redis, now: datetime | None = None) -> list[dict]:
    """Workers seen in the last hour: ``{"name", "last_seen", "alive", "active"}``.

    Alive means a heartbeat younger than :data:`HEARTBEAT_TTL`; workers gone for longer
    than an hour are forgotten.
    """
    now = now or datetime.now(UTC)
    known = redis.hgetall(WORKERS_KEY)
    names = sorted(known)
    live = redis.mget([HEARTBEAT_KEY.format(name=n) for n in names]) if names else []
    result, forget = [], []
    for name, last, fresh in zip(names, (known[n] for n in names), live, strict=True):
        try:
            beat = json.loads(fresh or last)
            seen = datetime.fromisoformat(beat["at"].replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError):
            forget.append(name)
            continue
        if fresh is None and now - seen > FORGET_WORKER_AFTER:
            forget.append(name)
            continue
        alive = fresh is not None and (now - seen).total_seconds() <= HEARTBEAT_TTL
        result.append(
            {
                "name": name,
                "last_seen": iso(seen),
                "alive": alive,
                "active": int(beat.get("active", 0)) if alive else 0,
            }
        )
    if forget:
        redis.hdel(WORKERS_KEY, *forget)
    return result


def matches_host(name: str, host: str) -> bool:
    """Whether worker ``name`` (``celery@host`` or ``host``) runs on ``host``."""
    return name == host or name.endswith("@" + host)
