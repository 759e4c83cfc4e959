"""Sending the mails of the mail log, and beat's mail tick.

:func:`deliver` sends one mail: claim it, check the address did not unsubscribe, build
the message from the data as it is now, send it with no transaction open, record the
outcome. :func:`tick` plans the digests that are due, plans the readers' mails whose task
was lost, and queues every mail that is due again (retries, lost tasks, dead senders).
Tasks go to the ``mail`` queue, so a slow mail server never delays a check.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared import taskqueue
from shared.db import session_scope
from shared.mail import digest, log, notify, optout, transport
from shared.mail.smtpurl import parse_smtp_url
from shared.models import utcnow

if TYPE_CHECKING:
    from shared.bootstrap import Container

logger = logging.getLogger(__name__)

_RENDER = {"reply": notify.render, "published": notify.render, "digest": digest.render}


def queue_sends(container: Container, mail_ids: list[int]) -> int:
    """Queue a send task per mail (after the commit that planned them); a send that
    cannot be queued is left to the tick (:data:`shared.mail.log.PICKUP`)."""
    return sum(container.queue.send(taskqueue.SEND_MAIL, mail_id) for mail_id in mail_ids)


def after_publication(container: Container, comment_ids: list[str]) -> None:
    """After a commit that published ``comment_ids``: one task plans their mails. Nothing
    without ``PARLEY_SMTP_URL``."""
    if container.settings.mail_configured and comment_ids:
        container.queue.send(taskqueue.MAIL_PUBLISHED, list(comment_ids))


def plan_and_queue(container: Container, comment_ids: list[str]) -> int:
    """The task queued by :func:`after_publication`: plan, then queue each new mail."""
    return queue_sends(container, notify.plan_published(container, comment_ids))


def deliver(container: Container, mail_id: int, now: datetime | None = None) -> str:
    """Send mail ``mail_id`` if it is ours to send. The outcome: ``sent``, ``retry``,
    ``failed``, ``skipped`` or ``busy`` (sent already, not due, or another sender's)."""
    now = now or utcnow()
    with session_scope(container.stores.moderation) as session:
        row = log.claim(session, mail_id, now)
    if row is None:
        return "busy"
    with container.stores.moderation_read() as session:
        unsubscribed = optout.opted_out(session, row.to_address)
    try:
        if unsubscribed:
            raise notify.Gone("the address unsubscribed")
        message = _RENDER[row.kind](container, row)
    except notify.Gone as exc:
        return _finish(container, row, "skipped", error=str(exc))
    target = parse_smtp_url(container.settings.smtp_url)
    try:
        transport.send(target, message)
    except transport.SendError as exc:
        if exc.transient and row.attempts < log.MAX_ATTEMPTS:
            wait = log.backoff(row.attempts)
            logger.warning(
                "mail not sent; will retry",
                extra={"mail_id": mail_id, "kind": row.kind, "error": str(exc), "retry_in": wait},
            )
            return _finish(
                container,
                row,
                "retry",
                error=str(exc)[:500],
                next_attempt_at=utcnow() + timedelta(seconds=wait),
            )
        logger.error(
            "mail not sent; giving up",
            extra={"mail_id": mail_id, "kind": row.kind, "error": str(exc)},
        )
        return _finish(container, row, "failed", error=str(exc)[:500])
    return _finish(container, row, "sent", sent_at=utcnow(), error=None)


def _finish(container: Container, row, status: str, **values) -> str:
    with session_scope(container.stores.moderation) as session:
        if not log.finish(session, row, status, **values):
            # Our lease ran out and another sender claimed the mail meanwhile.
            logger.warning("mail claim lost before its outcome", extra={"mail_id": row.id})
            return "busy"
    return status


def tick(container: Container, now: datetime | None = None) -> dict:
    """Beat's mail tick: digests due, readers' mails never planned, mails due again."""
    if not container.settings.mail_configured:
        return {"digests": 0, "planned": 0, "queued": 0}
    now = now or utcnow()
    digests = digest.plan_digests(container, now)
    missed = notify.scan(container, now)
    planned = notify.plan_published(container, missed) if missed else []
    with container.stores.moderation_read() as session:
        again = log.due(session, now)
    queued = queue_sends(container, list(dict.fromkeys([*digests, *planned, *again])))
    return {"digests": len(digests), "planned": len(planned), "queued": queued}
