"""Moving-window limits counted in Redis, with this process's memory as the fallback.

Built on the `limits` library (the engine of flask-limiter), used directly. Both the
per-IP submission limit (:mod:`services.ratelimit`) and the dashboard's sign-in throttle
(:class:`LoginThrottle` below) count here, so every process sees the same counts. If
Redis cannot be reached, the counts go to this process's memory instead: the limits still
hold, per process, and nothing is refused for want of Redis.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable

from limits import RateLimitItem, parse
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


LOGIN_FAILURES = "5 per 15 minutes"  # sign-in: after this, an e-mail and an IP wait a while


class LoginThrottle:
    """Answers "may this e-mail / IP try again now?" and counts failures."""

    def __init__(self, redis_url: str, limit: str = LOGIN_FAILURES):
        self.item: RateLimitItem = parse(limit)
        self._counter = Counter(redis_url, "parley:login", "login throttle")

    def _keys(self, email: str, ip: str) -> list[tuple[str, str]]:
        return [("email", (email or "").strip().lower()[:254]), ("ip", ip or "unknown")]

    def retry_after(self, email: str, ip: str) -> int | None:
        """Seconds to wait if this e-mail or IP failed too often lately, else None."""
        return self._counter.retry_after((self.item, keys) for keys in self._keys(email, ip))

    def failed(self, email: str, ip: str) -> None:
        """Count one failed sign-in against both the e-mail and the IP."""
        for kind, key in self._keys(email, ip):
            self._counter.call("hit", self.item, kind, key)

    def succeeded(self, email: str) -> None:
        """A right password clears the e-mail's failures (the IP's stay: it may guess others)."""
        kind, key = self._keys(email, "")[0]
        self._counter.call("clear", self.item, kind, key)

    @property
    def limit(self) -> str:
        unit = self.item.GRANULARITY.name + ("s" if self.item.multiples != 1 else "")
        return f"{self.item.amount} failed sign-ins in {self.item.multiples} {unit}"
