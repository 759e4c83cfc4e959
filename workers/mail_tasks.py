"""Mail tasks (shared/mail) on the ``mail`` queue: thin adapters, each idempotent.

A task that runs twice plans or sends nothing twice: mails are planned under unique keys
and sent only by the task that claims them in the mail log. A send that fails for a
temporary reason is retried by beat's mail tick with backoff (shared.mail.log.backoff), so
a retry survives a worker restart.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from shared import taskqueue
from shared.mail import delivery
from workers.app import app
from workers.runtime import container

log = logging.getLogger(__name__)

# A database or broker hiccup only; the mail server's own failures are recorded in the
# mail log and retried by the tick.
RETRY_TRANSIENT = dict(
    autoretry_for=(OperationalError, ConnectionError, TimeoutError),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)


@app.task(name=taskqueue.MAIL_PUBLISHED, **RETRY_TRANSIENT)
def mail_published(comment_ids: list[str]) -> int:
    """Plan the readers' mails of newly published comments and queue their sends."""
    return delivery.plan_and_queue(container(), comment_ids)


@app.task(name=taskqueue.SEND_MAIL, **RETRY_TRANSIENT)
def send_mail(mail_id: int) -> str:
    """Send one mail of the mail log, if it is still this task's to send."""
    return delivery.deliver(container(), mail_id)


@app.task(name=taskqueue.MAIL_TICK)
def mail_tick() -> dict:
    """Plan the moderators' digests that are due and queue every mail due again."""
    done = delivery.tick(container())
    if any(done.values()):
        log.info("mail tick", extra=done)
    return done
