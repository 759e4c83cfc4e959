"""Per-IP rate limit and flood control on comment submission, kept in Redis.

Built on the `limits` library (the engine of flask-limiter) through
:class:`shared.throttle.Counter`, used directly so that each app gets its own storage and
only *accepted* comments use up the allowance: a typo that earns a 422 costs nothing, and
a replayed ``Idempotency-Key`` is never limited. If Redis is down the limits fall back to
this process's memory instead of refusing.
"""

from __future__ import annotations

from limits import RateLimitItem, parse_many

from shared.config import Settings
from shared.throttle import Counter


class SubmissionLimiter:
    """Answers "may this IP post now?" and records accepted posts."""

    def __init__(self, settings: Settings):
        self.items: list[RateLimitItem] = []
        if settings.rate_limit != "off":
            self.items.extend(parse_many(settings.rate_limit))
        if settings.flood_seconds > 0:
            self.items.extend(parse_many(f"1 per {settings.flood_seconds} second"))
        self._counter = Counter(settings.redis_url, "parley:rl", "rate-limit")

    @property
    def enabled(self) -> bool:
        return bool(self.items)

    def retry_after(self, ip: str) -> int | None:
        """Seconds to wait if ``ip`` is over a limit now, else None."""
        return self._counter.retry_after((item, ("comments", ip)) for item in self.items)

    def hit(self, ip: str) -> None:
        """Count one accepted comment from ``ip``."""
        for item in self.items:
            self._counter.call("hit", item, "comments", ip)
