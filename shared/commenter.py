"""Who wrote a comment, as far as Parley can tell: the commenter key and the host site's
author token (docs/contract.md §3).

An e-mail address is not a credential: anyone may type a regular reader's. So the
author's record (earlier comments approved or marked spam) is counted by a *commenter
key*, something the reader holds: each comment's answer carries a signed
``commenter_token`` around a random id, and a later comment that sends it back adds to the
same record. The store keeps only :func:`author_key`, a hash of the id, so a copy of the
database hands out no tokens. A comment without a valid token starts a record of its own,
with no history either way (a griefer who posts spam under a regular's address does not
poison the regular's record).

The trusted-authors list is by e-mail address, so it applies only to an address the host
site vouches for: an ``author_token`` that the site, which knows its signed-in reader's
address, signs with ``PARLEY_AUTHOR_TOKEN_SECRET`` (:func:`sign_author_token` says how).
A token that is forged, expired, for another address, or sent while the setting is unset
is ignored, never refused: a site's clock or secret mistake must not lose a comment.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time

from itsdangerous import BadSignature, Serializer, URLSafeSerializer
from itsdangerous.encoding import base64_encode

SALT = "parley.commenter"
# Where a reader's token travels besides the ``commenter_token`` field: a header for API
# clients, and for the demo page's form (no JavaScript) an HttpOnly cookie of the api's.
HEADER = "Commenter-Token"
COOKIE = "parley_commenter"
COOKIE_PATH = "/api/v1/articles/"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Longer tokens are not read (ours are about 60 characters).
MAX_TOKEN = 512
AUTHOR_TOKEN_VERSION = "v1"


class _TokenSerializer(URLSafeSerializer):
    """itsdangerous's URL-safe tokens, written without trying zlib first.

    The URL-safe serializer compresses each payload and keeps the result only if it is
    shorter. A key id is 32 hex digits, which deflate does not shorten (400,000 random
    ones checked), so the token is the same; but each attempt sets up a deflate stream,
    about 256 KiB of state: 14 µs in a warm process, up to 60 µs in a fresh one, the
    largest single cost of a comment's answer. Reading is the library's own, which takes
    compressed and uncompressed tokens alike."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


@functools.lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    """One serializer per secret and process (it keeps no per-call state)."""
    return _TokenSerializer(secret, salt=SALT)


def key_id_for(secret: str, comment_id: str) -> str:
    """The id of the key a comment without one starts: a keyed hash of the comment's
    random id, so unguessable without the secret, and the same each time the comment's
    first answer is replayed (an ``Idempotency-Key`` retry gets the first answer, token
    included: docs/contract.md §3). Replaying needs the key and every field of the first
    request, the author's private address among them."""
    mac = hmac.new(secret.encode(), f"{SALT}.key\x00{comment_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def issue(secret: str, key_id: str) -> str:
    """The ``commenter_token`` a reader keeps and sends back: ``key_id``, signed."""
    return _serializer(secret).dumps({"k": key_id})


def read(secret: str, token: str | None) -> str | None:
    """The key id in a token Parley issued, or None (no token, or a forged one)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature:
        return None
    key_id = payload.get("k") if isinstance(payload, dict) else None
    return key_id if isinstance(key_id, str) and key_id else None


def author_key(key_id: str) -> str:
    """What the store keeps of a key (``comments.author_key``): SHA-256, hex."""
    return hashlib.sha256(f"{SALT}\x00{key_id}".encode()).hexdigest()


def _author_mac(secret: str, email: str, expires: int) -> str:
    message = f"{email.strip().lower()}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_author_token(secret: str, email: str, expires: int) -> str:
    """An ``author_token`` as a host site makes one for its signed-in reader:
    ``v1.<expires>.<hex>``, where ``expires`` is a Unix time in whole seconds and ``hex``
    the HMAC-SHA256, keyed with ``PARLEY_AUTHOR_TOKEN_SECRET``, of the address trimmed and
    lower-cased, a newline, and ``expires`` in decimal."""
    return f"{AUTHOR_TOKEN_VERSION}.{expires}.{_author_mac(secret, email, expires)}"


def author_verified(
    secret: str | None, token: str | None, email: str, now: float | None = None
) -> bool:
    """Whether ``token`` is the host site's word, unexpired, that the reader's address is
    ``email``. Without a secret no token is: the trusted list then earns nothing."""
    if not secret or not token or len(token) > MAX_TOKEN:
        return False
    version, _, rest = token.partition(".")
    expires, _, mac = rest.partition(".")
    if version != AUTHOR_TOKEN_VERSION or not (expires.isascii() and expires.isdigit()):
        return False
    if len(expires) > 12 or int(expires) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(mac.encode(), _author_mac(secret, email, int(expires)).encode())
