"""Signed form tokens: prove a form was loaded, how long before it was submitted, and that
it is sent once.

A token is good for one comment (:func:`claim`): a second comment with it is ``reused``,
which the rules score like a forged one. Each token carries a random nonce, so two pages
loaded in the same second get two tokens.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis.exceptions import RedisError

SALT = "parley.form-token"
MAX_AGE = 24 * 3600
# Redis key of a used token: by the digest of its signed part (payload and timestamp),
# which the signature fixes, so a token cannot be spelled another way to pass again.
USED_KEY = "parley:form-token:used:{}"

log = logging.getLogger(__name__)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def issue(secret: str, slug: str) -> str:
    """A token for the comment form of article ``slug``."""
    return _serializer(secret).dumps({"a": slug, "n": secrets.token_urlsafe(9)})


def check(
    secret: str, slug: str, token: str | None, now: float | None = None
) -> tuple[str, float | None]:
    """Return ``(status, age_seconds)``; status is valid, missing, expired or invalid.

    A bad token never rejects a comment: it is evidence for the heuristics, no more.
    Whether a valid token was used before is :func:`claim`'s to say.
    """
    if not token:
        return "missing", None
    try:
        payload, issued = _serializer(secret).loads(token, max_age=MAX_AGE, return_timestamp=True)
    except SignatureExpired:
        return "expired", None
    except BadSignature:
        return "invalid", None
    if not isinstance(payload, dict) or payload.get("a") != slug:
        return "invalid", None
    age = (now if now is not None else time.time()) - issued.timestamp()
    return "valid", max(age, 0.0)


def claim(redis: Any, token: str, age: float, holder: str) -> str:
    """Record the first use of a valid ``token``, atomically: ``valid`` for its first
    comment, ``reused`` for any other.

    One ``SET NX GET`` stores ``holder`` (the comment's fingerprint: its author and text)
    for as long as the token lives, or returns who holds it already; the same comment
    sent again (a retry whose first answer was lost) holds it still and stays ``valid``.
    If Redis cannot be reached the comment is not failed for it: the token counts as
    ``valid`` (it is only evidence), and a warning is logged.
    """
    used = USED_KEY.format(hashlib.sha256(token.rpartition(".")[0].encode()).hexdigest())
    ttl = max(1, math.ceil(MAX_AGE - age) + 1)
    try:
        before = redis.set(used, holder, ex=ttl, nx=True, get=True)
    except (RedisError, OSError) as exc:
        log.warning("form token not claimed: Redis unavailable", extra={"error": str(exc)})
        return "valid"
    if isinstance(before, bytes):  # a client without decode_responses
        before = before.decode()
    return "valid" if before is None or before == holder else "reused"
