"""Per-IP rate limit and flood control on comment submission, kept in Redis.

Built on the `limits` library (the engine of flask-limiter), used directly so that each
app gets its own storage and only *accepted* comments use up the allowance: a typo that
earns a 422 costs nothing, and a replayed ``Idempotency-Key`` is never limited.
If Redis is down the limits fall back to this process's memory instead of refusing.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from shared.config import Settings

log = logging.getLogger(__name__)


class SubmissionLimiter:
    """Answers "may this IP post now?" and records accepted posts."""

    def __init__(self, settings: Settings):
        self.items: list[RateLimitItem] = []
        if settings.rate_limit != "off":
            self.items.extend(parse_many(settings.rate_limit))
        if settings.flood_seconds > 0:
            self.items.extend(parse_many(f"1 per {settings.flood_seconds} second"))
        self._redis_uri = settings.redis_url
        self._redis = None
        self._memory = MovingWindowRateLimiter(MemoryStorage())

    @property
    def enabled(self) -> bool:
        return bool(self.items)

    def _primary(self) -> MovingWindowRateLimiter:
        if self._redis is None:
            storage = storage_from_string(
                self._redis_uri, socket_connect_timeout=1, socket_timeout=2, key_prefix="parley:rl"
            )
            self._redis = MovingWindowRateLimiter(storage)
        return self._redis

    def _call(self, method: str, *args):
        try:
            return getattr(self._primary(), method)(*args)
        except Exception as exc:  # Redis unreachable
            log.warning(
                "rate-limit storage unavailable, using process memory", extra={"error": str(exc)}
            )
            return getattr(self._memory, method)(*args)

    def retry_after(self, ip: str) -> int | None:
        """Seconds to wait if ``ip`` is over a limit now, else None."""
        waits = []
        for item in self.items:
            if not self._call("test", item, "comments", ip):
                stats = self._call("get_window_stats", item, "comments", ip)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None

    def hit(self, ip: str) -> None:
        """Count one accepted comment from ``ip``."""
        for item in self.items:
            self._call("hit", item, "comments", ip)
