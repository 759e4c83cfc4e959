"""Moving-window limits counted in Redis, with this process's memory as the fallback.

Built on the `limits` library (the engine of flask-limiter), used directly. Both the
per-IP submission limit (:mod:`services.ratelimit`) and the dashboard's sign-in throttle
(:mod:`shared.dashboard_throttle`) count here, so every process sees the same counts. If
Redis cannot be reached, the counts go to this process's memory instead: the limits still
hold, per process, and nothing is refused for want of Redis.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable

from limits import RateLimitItem
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class Counter:
    """Hits and tests of :class:`~limits.RateLimitItem` limits under ``key_prefix``."""

    def __init__(self, redis_url: str, key_prefix: str, name: str):
        self.name = name  # for the log line when Redis is unavailable
        self._redis_url = redis_url
        self._key_prefix = key_prefix
        self._redis: MovingWindowRateLimiter | None = None
        self._memory = MovingWindowRateLimiter(MemoryStorage())

    def _primary(self) -> MovingWindowRateLimiter:
        if self._redis is None:
            storage = storage_from_string(
                self._redis_url,
                socket_connect_timeout=1,
                socket_timeout=2,
                key_prefix=self._key_prefix,
            )
            self._redis = MovingWindowRateLimiter(storage)
        return self._redis

    def call(self, method: str, item: RateLimitItem, *keys: str):
        """``method`` (hit, test, clear, get_window_stats) of the limiter, in Redis if it
        answers, else in this process's memory."""
        try:
            return getattr(self._primary(), method)(item, *keys)
        except Exception as exc:  # Redis unreachable
            log.warning(
                f"{self.name} storage unavailable, using process memory",
                extra={"error": str(exc)},
            )
            return getattr(self._memory, method)(item, *keys)

    def retry_after(self, limits: Iterable[tuple[RateLimitItem, tuple[str, ...]]]) -> int | None:
        """Whole seconds until every ``(item, keys)`` of ``limits`` is under its limit again,
        or None if all are now."""
        waits = []
        for item, keys in limits:
            if not self.call("test", item, *keys):
                stats = self.call("get_window_stats", item, *keys)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None
