"""The mail log (``mail_log``), which is also the mail queue.

A mail is planned as a ``pending`` row whose unique ``key`` is its identity, then sent by
whichever task claims it: the claim is a conditional update (``pending``, or ``retry``
that is due, or ``sending`` whose lease ran out → ``sending``), so a task that runs twice,
or two tasks at once, send it once. A temporary failure puts the row back as ``retry``
with a growing delay (:func:`backoff`); beat's mail tick queues what is due again, and
anything whose task was lost (a ``pending`` row past :data:`PICKUP`, a ``sending`` row
whose worker died). Rows end ``sent``, ``failed`` or ``skipped``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.models import MailLog, utcnow

KINDS = ("reply", "published", "digest")
FINAL = ("sent", "failed", "skipped")
# Attempts before a mail counts as failed: with the backoff below, about 17 hours.
MAX_ATTEMPTS = 12
BACKOFF_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0
# A claimed mail whose sender died is claimable again after this.
LEASE = timedelta(minutes=5)
# A planned mail whose task never arrived (Redis was away) is queued again after this.
PICKUP = timedelta(seconds=60)


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 30 s doubling to an hour,
    with ±20 % jitter so that mails failed together are not all retried together."""
    base = min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2 ** max(0, attempts - 1))
    return base * random.uniform(0.8, 1.2)


_INSERTS = {
    name: module.insert(MailLog)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(MailLog.id)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}


def plan(
    session: Session,
    *,
    key: str,
    kind: str,
    to: str,
    comment_id: str | None = None,
    detail: dict | None = None,
    now: datetime | None = None,
) -> int | None:
    """Plan one mail; its id, or None when a mail with this ``key`` is planned already."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    return session.execute(
        _INSERTS["postgresql" if dialect == "postgresql" else "sqlite"],
        {
            "key": key,
            "kind": kind,
            "to_address": to,
            "comment_id": comment_id,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "next_attempt_at": now + PICKUP,
            "detail": detail or {},
        },
    ).scalar()


def _claimable(now: datetime):
    return or_(
        MailLog.status == "pending",
        and_(MailLog.status == "retry", MailLog.next_attempt_at <= now),
        and_(MailLog.status == "sending", MailLog.lease_until < now),
    )


def claim(session: Session, mail_id: int, now: datetime) -> MailLog | None:
    """Take mail ``mail_id`` for sending, or None if it is not ours to send (sent, failed,
    skipped, not due yet, or held by another sender's live lease)."""
    result = session.execute(
        update(MailLog)
        .where(MailLog.id == mail_id, _claimable(now))
        .values(
            status="sending",
            attempts=MailLog.attempts + 1,
            lease_until=now + LEASE,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return session.get(MailLog, mail_id, populate_existing=True)


def finish(session: Session, row: MailLog, status: str, **values) -> bool:
    """Record the outcome of the claim ``row`` holds (only while it still holds it)."""
    now = utcnow()
    result = session.execute(
        update(MailLog)
        .where(MailLog.id == row.id, MailLog.status == "sending", MailLog.attempts == row.attempts)
        .values(status=status, updated_at=now, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def due(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Mails to queue again: retries that are due, planned mails whose task never came,
    and claims whose sender died."""
    return list(
        session.scalars(
            select(MailLog.id)
            .where(
                or_(
                    and_(MailLog.status.in_(("pending", "retry")), MailLog.next_attempt_at <= now),
                    and_(MailLog.status == "sending", MailLog.lease_until < now),
                )
            )
            .order_by(MailLog.id)
            .limit(limit)
        )
    )


def mails_to(session: Session, address: str) -> list[dict]:
    """Every mail logged for ``address`` (trimmed, compared case-blind), oldest first: what
    a privacy export shows as the mails sent to someone."""
    from sqlalchemy import func

    rows = session.scalars(
        select(MailLog)
        .where(func.lower(MailLog.to_address) == address.strip().lower())
        .order_by(MailLog.id)
    )
    return [
        {
            "kind": row.kind,
            "to": row.to_address,
            "comment_id": row.comment_id,
            "status": row.status,
            "attempts": row.attempts,
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        }
        for row in rows
    ]


def recent(session: Session, limit: int = 50) -> tuple[dict[str, int], list[MailLog]]:
    """The dashboard's view: mails per status over the last week, and the newest rows."""
    from sqlalchemy import func

    since = utcnow() - timedelta(days=7)
    counts = dict(
        session.execute(
            select(MailLog.status, func.count(MailLog.id))
            .where(MailLog.created_at >= since)
            .group_by(MailLog.status)
        ).all()
    )
    rows = list(session.scalars(select(MailLog).order_by(MailLog.id.desc()).limit(limit)))
    return counts, rows


def forget(session: Session, address: str) -> int:
    """Delete every mail logged for ``address`` (compared case-blind), sent or not: what a
    privacy erasure does with the mail log (the opt-out, kept as a hash, stays). The number
    of rows deleted; a mail not sent yet is not sent."""
    from sqlalchemy import delete, func

    result = session.execute(
        delete(MailLog)
        .where(func.lower(MailLog.to_address) == address.strip().lower())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
