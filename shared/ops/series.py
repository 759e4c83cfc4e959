"""The ops page's series: the last hour, minute by minute, kept in Redis.

Cheap to write and shared by every container: the pipeline and the Akismet client bump
per-minute hash fields (:func:`record_decisions`, :func:`record_akismet`), a beat task
samples queue depths every 15 s (:func:`sample`), and everything expires after two hours.
Latency percentiles are approximate: observations are counted in fixed buckets per minute
and a percentile is interpolated linearly inside its bucket, so its error is at most that
bucket's width. Recording never raises into the pipeline: with Redis unreachable an
increment is skipped (debug log) and the recorder stays quiet for ten seconds instead of
slowing checks down.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import redis as redis_lib

from shared.ops.collector import oldest_unchecked_age, queue_depths
from shared.ops.heartbeat import workers
from shared.taskqueue import QUEUES
from shared.timefmt import iso

log = logging.getLogger(__name__)

SERIES_TTL = 2 * 3600
MINUTE_KEY = "parley:ops:minute:{stamp}"
SAMPLES_KEY = "parley:ops:samples"
SAMPLE_SECONDS = 15.0

DECISIONS = ("published", "held", "spam", "discarded")
AKISMET_OK = frozenset({"ham", "spam", "discard", "ok"})
# Upper bounds of the per-minute latency buckets (a last, open bucket catches the rest).
AKISMET_MS_BOUNDS = (5, 10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000)
CHECK_S_BOUNDS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
RECORDER_BACKOFF = 10.0

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


# Per thread, inside :func:`batched`: {Redis URL: {field: amount}} not yet written.
_batch = threading.local()


@contextmanager
def batched() -> Iterator[None]:
    """This thread's increments within are added up and written at the end, in one round
    trip per Redis: a check's Akismet request and its decision cost one instead of one
    each. Lost only with the process itself, as the series is best effort anyway."""
    if getattr(_batch, "pending", None) is not None:  # nested: the outer one writes
        yield
        return
    _batch.pending = {}
    try:
        yield
    finally:
        pending, _batch.pending = _batch.pending, None
        for url, fields in pending.items():
            _write(url, fields)


def _bump(redis_url: str | None, fields: dict[str, int]) -> None:
    if not redis_url:
        return
    pending = getattr(_batch, "pending", None)
    if pending is None:
        _write(redis_url, fields)
        return
    added = pending.setdefault(redis_url, {})
    for name, amount in fields.items():
        added[name] = added.get(name, 0) + amount


def _write(redis_url: str, fields: dict[str, int]) -> None:
    if time.monotonic() < _quiet_until.get(redis_url, 0.0):
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


def buckets(fields: dict, prefix: str, bounds) -> list[int]:
    """One minute's bucket counts of ``prefix`` (``len(bounds) + 1``, the open one last)."""
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

    akismet_buckets = [buckets(h, "akismet_ms", AKISMET_MS_BOUNDS) for h in hashes]
    check_buckets = [buckets(h, "check_s", CHECK_S_BOUNDS) for h in hashes]
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
