"""Moving-window limits counted in Redis, with this process's memory as the fallback.

Both the per-IP submission limit (:mod:`services.ratelimit`) and the dashboard's sign-in
throttle (:class:`LoginThrottle` below) count here, so every process sees the same counts.
A :meth:`Counter.take` tests every limit it is given and, only if all of them have room,
records one hit on each, in one step (a Lua script that Redis runs alone, or under a lock
in memory): a burst of concurrent requests cannot all pass the test before any of them is
counted. A hit that should not have counted (a comment refused for its fields, a right
password) is given back by name. If Redis cannot be reached, the counts go to this
process's memory instead: the limits still hold, per process, and nothing is refused for
want of Redis.

Limits are written as the `limits` library parses them ("5 per 15 minutes", "2/minute").
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis
from limits import RateLimitItem, parse

log = logging.getLogger(__name__)

Limit = tuple[RateLimitItem, tuple[str, ...]]  # an amount per window, and whose it is

# KEYS: one sorted set of hit times per limit. ARGV[1]: the new hit's name; then each key's
# amount and window in seconds. Records the hit on every key and returns nil, or, if a key
# has no room, records none and returns the seconds until every key has room.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local wait = -1
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if amount < 1 then
    wait = math.max(wait, window)
  elseif count >= amount then
    local oldest = redis.call('ZRANGE', key, count - amount, count - amount, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait >= 0 then
  return tostring(wait)
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2 * i + 1])))
end
return false
"""


@dataclass(frozen=True)
class Take:
    """What :meth:`Counter.take` did: ``token`` names the hits it recorded (None if it was
    refused), ``retry_after`` is the whole seconds to wait when refused."""

    limits: tuple[Limit, ...]
    token: str | None
    retry_after: int = 0

    @property
    def taken(self) -> bool:
        return self.token is not None


def _wait_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


class _Memory:
    """The same windows in this process, for while Redis is unreachable."""

    def __init__(self):
        self._lock = threading.Lock()
        self._hits: dict[str, list[tuple[float, str]]] = {}

    def take(self, windows: list[tuple[str, int, int]], token: str) -> float | None:
        with self._lock:
            now = time.time()
            wait = -1.0
            for key, amount, window in windows:
                hits = [hit for hit in self._hits.get(key, ()) if hit[0] > now - window]
                self._hits[key] = hits
                if amount < 1:
                    wait = max(wait, window)
                elif len(hits) >= amount:
                    wait = max(wait, hits[len(hits) - amount][0] + window - now)
            if wait >= 0:
                return wait
            for key, _, _ in windows:
                self._hits[key].append((now, token))
            for key in [key for key, hits in self._hits.items() if not hits]:
                del self._hits[key]  # forget who stopped: the dict stays the size of the window
            return None

    def remove(self, keys: list[str], token: str | None) -> None:
        with self._lock:
            for key in keys:
                if token is None:
                    self._hits.pop(key, None)
                elif key in self._hits:
                    self._hits[key] = [hit for hit in self._hits[key] if hit[1] != token]


class Counter:
    """Hits of :class:`~limits.RateLimitItem` limits under ``key_prefix``, taken atomically."""

    def __init__(self, redis_url: str, key_prefix: str, name: str):
        self.name = name  # for the log line when Redis is unavailable
        self._redis_url = redis_url
        self._key_prefix = key_prefix
        self._redis: redis.Redis | None = None  # connected on first use, not at import
        self._memory = _Memory()

    def _client(self) -> redis.Redis:
        if self._redis is None:
            client = redis.Redis.from_url(
                self._redis_url, socket_connect_timeout=1, socket_timeout=2
            )
            self._script = client.register_script(_TAKE)
            self._redis = client
        return self._redis

    def _windows(self, limits: Iterable[Limit]) -> list[tuple[str, int, int]]:
        return [
            (f"{self._key_prefix}:{item.key_for(*keys)}", item.amount, item.get_expiry())
            for item, keys in limits
        ]

    def _unavailable(self, exc: Exception) -> None:
        log.warning(
            f"{self.name} storage unavailable, using process memory", extra={"error": str(exc)}
        )

    def _run(self, windows: list[tuple[str, int, int]], token: str) -> float | None:
        args: list = [token]
        for _, amount, window in windows:
            args += [amount, window]
        try:
            self._client()
            wait = self._script(keys=[key for key, _, _ in windows], args=args)
        except (redis.RedisError, OSError) as exc:
            self._unavailable(exc)
            return self._memory.take(windows, token)
        return None if wait is None else float(wait)

    def take(self, limits: Iterable[Limit]) -> Take:
        """If every limit has room, record one hit on each and return a :class:`Take` whose
        token names them; else record nothing and say how long to wait. One step: no
        concurrent take can slip between the test and the count."""
        limits = tuple(limits)
        token = secrets.token_hex(8)
        wait = self._run(self._windows(limits), token)
        if wait is not None:
            return Take(limits, None, _wait_seconds(wait))
        return Take(limits, token)

    def give_back(self, take: Take) -> None:
        """Remove the hits ``take`` recorded, as if it had never been counted."""
        if take.taken:
            self._remove(take.limits, take.token)

    def clear(self, limits: Iterable[Limit]) -> None:
        """Forget every hit of these limits."""
        self._remove(limits, None)

    def _remove(self, limits: Iterable[Limit], token: str | None) -> None:
        keys = [key for key, _, _ in self._windows(limits)]
        self._memory.remove(keys, token)  # it may have been counted here while Redis was down
        try:
            client = self._client()
            if token is None:
                client.delete(*keys)
            else:
                with client.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.zrem(key, token)
                    pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._unavailable(exc)


# Failed sign-ins per 15 minutes. One address may try one account a few times (typos);
# across addresses an account takes a few more, so that someone guessing from one
# address does not lock the owner out elsewhere, while a guess spread over many addresses
# is still stopped; and one address may not go through the accounts either.
PER_ACCOUNT_AND_ADDRESS = "5 per 15 minutes"
PER_ACCOUNT = "20 per 15 minutes"
PER_ADDRESS = "20 per 15 minutes"


def _email_key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _address(ip: str | None) -> str:
    return ip or "unknown"


class LoginThrottle:
    """Counts each sign-in as a failure *before* its password is checked, so a guess beyond
    a limit is never checked at all; a right password gives its count back."""

    def __init__(
        self,
        redis_url: str,
        per_account_and_address: str = PER_ACCOUNT_AND_ADDRESS,
        per_account: str = PER_ACCOUNT,
        per_address: str = PER_ADDRESS,
    ):
        self.pair_item: RateLimitItem = parse(per_account_and_address)
        self.account_item: RateLimitItem = parse(per_account)
        self.address_item: RateLimitItem = parse(per_address)
        self._counter = Counter(redis_url, "parley:login", "login throttle")

    def attempt(self, email: str, ip: str) -> Take:
        """Count this sign-in of ``email`` from ``ip`` as failed, if no limit is reached;
        check the password only if the answer is ``taken``, else wait ``retry_after``."""
        email, ip = _email_key(email), _address(ip)
        return self._counter.take(
            [
                (self.pair_item, ("pair", email, ip)),
                (self.account_item, ("email", email)),
                (self.address_item, ("ip", ip)),
            ]
        )

    def succeeded(self, email: str, ip: str, take: Take) -> None:
        """A right password: ``take`` (its :meth:`attempt`) was no failure after all, and
        the failures of this account from this address (typos) are forgotten. Those from
        elsewhere stay: the owner signing in does not stop someone else's guessing."""
        self._counter.give_back(take)
        self._counter.clear([(self.pair_item, ("pair", _email_key(email), _address(ip)))])

    def give_back(self, take: Take) -> None:
        """Uncount an :meth:`attempt` whose password could not be checked (an error)."""
        self._counter.give_back(take)
