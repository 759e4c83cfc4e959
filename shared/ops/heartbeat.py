"""Worker heartbeats in Redis: who is alive, how busy, and when each was last seen.

Each worker writes ``parley:worker:<name>`` (expiring after :data:`HEARTBEAT_TTL`) every
:data:`HEARTBEAT_SECONDS` and keeps its last beat in the ``parley:workers`` hash, so the
ops page can still say when a worker that left was last seen. Compose's health check
(``parley worker-health``), the ops page and the ``parley_workers_alive`` gauge read them.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

from shared.timefmt import iso

WORKERS_KEY = "parley:workers"  # name -> last heartbeat, kept for the ops page's "last seen"
HEARTBEAT_KEY = "parley:worker:{name}"
HEARTBEAT_TTL = 30
HEARTBEAT_SECONDS = 10
FORGET_WORKER_AFTER = timedelta(hours=1)


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
