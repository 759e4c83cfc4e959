"""Login throttling: after a few failed sign-ins, an e-mail and an IP wait a while.

Counted per e-mail (one account guessed from many addresses) and per IP (many accounts
guessed from one address), in Redis so that every dashboard process sees the same counts.
If Redis is down, this process's memory counts instead: sign-in keeps working, still limited.
"""

from __future__ import annotations

from limits import RateLimitItem, parse

from shared.throttle import Counter

LOGIN_FAILURES = "5 per 15 minutes"


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
