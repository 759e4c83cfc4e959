"""Per-IP rate limit and flood control on comment submission, kept in Redis.

Counted by :class:`shared.throttle.Counter`, each app with its own, so that only
*accepted* comments use up the allowance: a typo that earns a 422 costs nothing, and a
replayed ``Idempotency-Key`` is never limited. If Redis is down the limits fall back to
this process's memory instead of refusing.

Test and count are one step: :meth:`SubmissionLimiter.retry_after` takes the comment's
place in every limit before it is submitted (so that of a burst of concurrent posts only
as many as allowed go on), and the place is given back when the request ends unless
:meth:`SubmissionLimiter.hit` kept it for an accepted comment.
"""

from __future__ import annotations

from flask import after_this_request, g
from limits import RateLimitItem, parse_many

from shared.config import Settings
from shared.throttle import Counter, Limit, Take


class SubmissionLimiter:
    """Answers "may this IP post now?" and keeps the place of accepted posts."""

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

    def _limits(self, ip: str) -> list[Limit]:
        return [(item, ("comments", ip)) for item in self.items]

    def retry_after(self, ip: str) -> int | None:
        """Seconds to wait if ``ip`` is over a limit now, else None: then this request holds
        a place in every limit until it ends, kept only if :meth:`hit` is called."""
        take = self._counter.take(self._limits(ip))
        if not take.taken:
            return take.retry_after
        held: dict[str, Take] = g.setdefault("parley_rate_places", {})
        held[ip] = take

        @after_this_request
        def give_back_unless_kept(response):
            if held.pop(ip, None) is not None:
                self._counter.give_back(take)
            return response

        return None

    def hit(self, ip: str) -> None:
        """Count one accepted comment from ``ip``: keep the place :meth:`retry_after` held
        for it (or, if none was held, count it now)."""
        if self.enabled and g.get("parley_rate_places", {}).pop(ip, None) is None:
            self._counter.take(self._limits(ip))


class ReportLimiter:
    """How many reports one client IP, and one reader (their commenter key, when they send
    it), may send (``PARLEY_REPORT_RATE_LIMIT``): every report that reaches the store
    counts (a repeat and an unknown comment too, so ids cannot be probed in bulk); test and
    count are one step, exact under a concurrent burst (:class:`shared.throttle.Counter`)."""

    def __init__(self, settings: Settings):
        self.items: list[RateLimitItem] = []
        if settings.report_rate_limit != "off":
            self.items.extend(parse_many(settings.report_rate_limit))
        self._counter = Counter(settings.redis_url, "parley:rl", "report rate limit")

    def retry_after(self, ip: str, reader_key: str | None) -> int | None:
        """Seconds to wait if this IP or reader is over the limit, else None (counted)."""
        if not self.items:
            return None
        keys = [("reports", "ip", ip)] + ([("reports", "reader", reader_key)] if reader_key else [])
        take = self._counter.take([(item, key) for item in self.items for key in keys])
        return None if take.taken else take.retry_after
