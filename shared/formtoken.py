"""Signed form tokens: prove a form was loaded, and how long before it was submitted."""

from __future__ import annotations

import time

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "parley.form-token"
MAX_AGE = 24 * 3600


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def issue(secret: str, slug: str) -> str:
    """A token for the comment form of article ``slug``."""
    return _serializer(secret).dumps({"a": slug})


def check(
    secret: str, slug: str, token: str | None, now: float | None = None
) -> tuple[str, float | None]:
    """Return ``(status, age_seconds)``; status is valid, missing, expired or invalid.

    A bad token never rejects a comment: it is evidence for the heuristics, no more.
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
