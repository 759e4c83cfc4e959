"""Celery tasks of webhooks (shared/webhooks), on the ``webhooks`` queue of the `deliver`
process: thin adapters. Idempotent: an attempt claims its delivery by its attempt count,
so a repeated task (a redelivery, the tick's) for a settled or claimed delivery does
nothing; a task lost with its worker is queued again by the tick."""

from __future__ import annotations

import logging

from shared import taskqueue
from shared.db import session_scope
from shared.webhooks import delivery, endpoints
from workers.app import app
from workers.runtime import container

log = logging.getLogger(__name__)


@app.task(name=taskqueue.DELIVER_WEBHOOK)
def deliver_webhook(pk: int, ticket: int) -> str:
    """One attempt at one delivery: delivered, retry, failed, or skipped."""
    return delivery.deliver(container(), pk, ticket)


@app.task(name=taskqueue.WEBHOOKS_TICK)
def webhooks_tick() -> int:
    """Queue the deliveries that are due (retries, attempts whose worker died)."""
    queued = delivery.tick(container())
    if queued:
        log.info("webhook deliveries queued by the tick", extra={"queued": queued})
    return queued


@app.task(name=taskqueue.WEBHOOKS_PURGE)
def webhooks_purge() -> dict:
    """Forget archived events and settled deliveries past PARLEY_WEBHOOK_RETENTION_DAYS."""
    parley = container()
    with session_scope(parley.stores.moderation) as session:
        return endpoints.purge(session, parley.settings)
