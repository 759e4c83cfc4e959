"""One-click unsubscribe (RFC 8058) through a signed link, and the opt-out list.

A link names the address by its SHA-256 only (never the address itself), signed with
``PARLEY_SECRET_KEY`` under its own salt and dated, so it cannot be forged, pointed at
another address or used after :data:`LINK_MAX_AGE`. Unsubscribing stops all of Parley's
mail to that address (replies, publication notices, moderators' digests), whichever mail
the link came from; a moderator can take their own opt-out back in the dashboard.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.models import MailOptOut, utcnow

SALT = "parley.mail.unsubscribe"
# A mail read months later still unsubscribes; a link found years later does not.
LINK_MAX_AGE = timedelta(days=180)
PATH = "/api/v1/mail/unsubscribe/"


class BadLink(ValueError):
    """An unsubscribe link that Parley did not sign (or that was altered)."""


class ExpiredLink(BadLink):
    """A genuine unsubscribe link older than :data:`LINK_MAX_AGE`."""


def address_hash(address: str) -> str:
    """The opt-out list's key for ``address``: SHA-256 of it trimmed and lower-cased."""
    return hashlib.sha256((address or "").strip().lower().encode()).hexdigest()


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def link_token(secret: str, address: str, kind: str) -> str:
    """The signed token of an unsubscribe link for ``address`` (from a mail of ``kind``)."""
    return _serializer(secret).dumps({"h": address_hash(address), "k": kind})


def link_url(site_url: str, secret: str, address: str, kind: str) -> str:
    """The whole unsubscribe link (on the public api, ``PARLEY_SITE_URL``)."""
    return site_url.rstrip("/") + PATH + link_token(secret, address, kind)


def read_token(secret: str, token: str, max_age: timedelta = LINK_MAX_AGE) -> tuple[str, str]:
    """``(address hash, kind)`` of a token; :class:`ExpiredLink` or :class:`BadLink`."""
    try:
        data = _serializer(secret).loads(token, max_age=max_age.total_seconds())
    except SignatureExpired:
        raise ExpiredLink("this unsubscribe link has expired") from None
    except BadSignature:
        raise BadLink("this is not a valid unsubscribe link") from None
    if not isinstance(data, dict) or not isinstance(data.get("h"), str):
        raise BadLink("this is not a valid unsubscribe link")
    return data["h"], str(data.get("k", ""))


_INSERTS = {
    name: module.insert(MailOptOut).on_conflict_do_nothing(index_elements=["address_hash"])
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}


def opt_out(session: Session, hashed: str, source: str) -> None:
    """Record that the address with SHA-256 ``hashed`` wants no mail (idempotent)."""
    dialect = session.get_bind().dialect.name
    session.execute(
        _INSERTS["postgresql" if dialect == "postgresql" else "sqlite"],
        {"address_hash": hashed, "created_at": utcnow(), "source": source},
    )


def opt_in(session: Session, address: str) -> None:
    """Take an address's opt-out back (a moderator, for their own address)."""
    session.execute(delete(MailOptOut).where(MailOptOut.address_hash == address_hash(address)))


def opted_out(session: Session, address: str) -> bool:
    """Whether ``address`` asked for no mail."""
    hashed = address_hash(address)
    return (
        session.scalar(select(MailOptOut.source).where(MailOptOut.address_hash == hashed))
        is not None
    )
