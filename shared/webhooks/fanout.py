"""The fan-out: every event relayed from the outbox becomes one delivery row per endpoint
that asked for its type, in the relay's own transaction (shared.events), so an event is
offered to webhooks exactly when its outbox row is deleted: a relay that dies before that
commit leaves both undone and the event is relayed, and fanned out, again.

Receipts (``comment.received``) do not pass through the outbox (the intake hands them to
Redis itself). An endpoint that asked for them gets a comment's receipt with the comment's
first relayed event (its first decision, moments after the receipt), placed before it:
the receipt's ``event_id`` is the stream's (shared.events.new_event), its ``at`` the
comment's receipt, and it is offered once (the archive says whether it was), only for
comments received after the endpoint was registered.
"""

from __future__ import annotations

from datetime import timedelta

import uuid_utils
from sqlalchemy import insert, select

from shared import events
from shared.models import Comment, WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow

RECEIVED = "comment.received"
# How many ticks a queued delivery is left to its task before the tick queues it again
# (2 minutes at the default PARLEY_WEBHOOK_TICK_SECONDS).
QUEUED_TICKS = 24

_ENDPOINTS = select(
    WebhookEndpoint.id,
    WebhookEndpoint.events,
    WebhookEndpoint.created_at,
    WebhookEndpoint.disabled_at,
)


def deadline_after(settings, now):
    """When a delivery made ``now`` stops being retried."""
    return now + timedelta(hours=settings.webhook_deadline_hours)


def queued_until(settings, now):
    """Until when a delivery queued ``now`` is left to its task (see QUEUED_TICKS)."""
    return now + timedelta(seconds=QUEUED_TICKS * settings.webhook_tick_seconds)


def delivery_row(settings, endpoint_id: str, event: dict, now, replay: bool = False) -> dict:
    """The values of one new :class:`WebhookDelivery` (``event``: the §6 fields, ``at`` a
    datetime), queued from ``now``."""
    return dict(
        delivery_id=str(uuid_utils.uuid4()),
        endpoint_id=endpoint_id,
        event_id=event["event_id"],
        type=event["type"],
        comment_id=event["comment_id"],
        article=event["article"],
        event_at=event["at"],
        replay=replay,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        queued_until=queued_until(settings, now),
        deadline=deadline_after(settings, now),
        created_at=now,
        updated_at=now,
    )


def insert_deliveries(conn, rows: list[dict]) -> list[int]:
    """Insert delivery rows in order; their ids, in the same order."""
    if not rows:
        return []
    result = conn.execute(
        insert(WebhookDelivery).returning(WebhookDelivery.id, sort_by_parameter_order=True),
        rows,
    )
    return list(result.scalars())


def _as_event(row) -> dict:
    return {
        "event_id": row.event_id,
        "type": row.type,
        "comment_id": row.comment_id,
        "article": row.article,
        "at": row.at,
    }


def _with_receipts(conn, offered: list[dict], receivers) -> list[dict]:
    """``offered`` with the receipt of each comment not yet offered to webhooks put
    before that comment's first event (see the module's docstring)."""
    first_registered = min(endpoint.created_at for endpoint in receivers)
    ids = list(dict.fromkeys(event["comment_id"] for event in offered))
    received = {
        row.id: row
        for row in conn.execute(
            select(Comment.id, Comment.article_slug, Comment.created_at).where(
                Comment.id.in_(ids), Comment.created_at >= first_registered
            )
        )
    }
    if not received:
        return offered
    receipts = {
        comment_id: events.new_event(RECEIVED, comment_id, row.article_slug, row.created_at)
        for comment_id, row in received.items()
    }
    known = set(
        conn.scalars(
            select(WebhookEvent.event_id).where(
                WebhookEvent.event_id.in_([receipt["event_id"] for receipt in receipts.values()])
            )
        )
    )
    result = []
    for event in offered:
        receipt = receipts.pop(event["comment_id"], None)
        if receipt is not None and receipt["event_id"] not in known:
            result.append(receipt)
        result.append(event)
    return result


def fan_out(conn, settings, relayed) -> list[int]:
    """Offer the ``relayed`` outbox rows (id order) to webhooks inside the relay's
    transaction ``conn``: archive them for replays and insert a delivery per matching
    enabled endpoint. The new deliveries' ids, to be queued once ``conn`` commits. With no
    endpoint registered at all this is one small read."""
    if not relayed:
        return []
    endpoints = conn.execute(_ENDPOINTS).all()
    if not endpoints:
        return []
    offered = [_as_event(row) for row in relayed]
    enabled = [endpoint for endpoint in endpoints if endpoint.disabled_at is None]
    receivers = [endpoint for endpoint in enabled if RECEIVED in endpoint.events]
    if receivers:
        offered = _with_receipts(conn, offered, receivers)
    conn.execute(insert(WebhookEvent), offered)
    now = utcnow()
    rows = []
    for event in offered:
        for endpoint in enabled:
            if event["type"] not in endpoint.events:
                continue
            if event["type"] == RECEIVED and event["at"] < endpoint.created_at:
                continue
            rows.append(delivery_row(settings, endpoint.id, event, now))
    return insert_deliveries(conn, rows)
