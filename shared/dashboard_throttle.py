"""Login throttling: after a few failed sign-ins, an e-mail and an IP wait a while.

Counted per e-mail (one account guessed from many addresses) and per IP (many accounts
guessed from one address), in Redis so that every dashboard process sees the same counts.
If Redis is down, this process's memory counts instead: sign-in keeps working, still limited.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

LOGIN_FAILURES = "5 per 15 minutes"


class LoginThrottle:
    """Answers "may this e-mail / IP try again now?" and counts failures."""

    def __init__(self, redis_url: str, limit: str = LOGIN_FAILURES):
        self.item: RateLimitItem = parse(limit)
        self._redis_url = redis_url
        self._redis: MovingWindowRateLimiter | None = None
        self._memory = MovingWindowRateLimiter(MemoryStorage())

    def _primary(self) -> MovingWindowRateLimiter:
        if self._redis is None:
            storage = storage_from_string(
                self._redis_url,
                socket_connect_timeout=1,
                socket_timeout=2,
                key_prefix="parley:login",
            )
            self._redis = MovingWindowRateLimiter(storage)
        return self._redis

    def _call(self, method: str, *keys: str):
        try:
            return getattr(self._primary(), method)(self.item, *keys)
        except Exception as exc:  # Redis unreachable
            log.warning(
                "login throttle storage unavailable, using process memory",
                extra={"error": str(exc)},
            )
            return getattr(self._memory, method)(self.item, *keys)

    def _keys(self, email: str, ip: str) -> list[tuple[str, str]]:
        return [("email", (email or "").strip().lower()[:254]), ("ip", ip or "unknown")]

    def retry_after(self, email: str, ip: str) -> int | None:
        """Seconds to wait if this e-mail or IP failed too often lately, else None."""
        waits = []
        for kind, key in self._keys(email, ip):
            if not self._call("test", kind, key):
                stats = self._call("get_window_stats", kind, key)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None

    def failed(self, email: str, ip: str) -> None:
        """Count one failed sign-in against both the e-mail and the IP."""
        for kind, key in self._keys(email, ip):
            self._call("hit", kind, key)

    def succeeded(self, email: str) -> None:
        """A right password clears the e-mail's failures (the IP's stay: it may guess others)."""
        kind, key = self._keys(email, "")[0]
        self._call("clear", kind, key)

    @property
    def limit(self) -> str:
        unit = self.item.GRANULARITY.name + ("s" if self.item.multiples != 1 else "")
        return f"{self.item.amount} failed sign-ins in {self.item.multiples} {unit}"
