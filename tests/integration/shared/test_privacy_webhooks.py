"""Export and erasure of what webhooks hold about a person's comments (shared.privacy.
linked): the events kept for replays and the deliveries (ids, types, times, receivers'
answers) are exported and kept (they name nobody); a delivery of ``comment.published``
made after the erasure carries the tombstone's fields; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
import sqlalchemy as sa

from shared.db import session_scope
from shared.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from shared.moderation import pipeline
from shared.privacy.erase import erase_author
from shared.privacy.export import export_author
from shared.webhooks.delivery import body_of
from tests.support.factories import open_article, submit_in_process

SLUG = "istanbul-talks"
ADDRESS = "hooked@example.org"


def export(container) -> dict:
    return json.loads(b"".join(export_author(container, ADDRESS, "tester")))


def world(container) -> dict[str, str]:
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    ids = {
        "mine": submit_in_process(container, SLUG, "Mine, sent to a hook.", email=ADDRESS),
        "theirs": submit_in_process(container, SLUG, "Theirs, also sent.", email="o@example.org"),
    }
    for cid in ids.values():
        pipeline.check_comment(container, cid)
    now = datetime.now(UTC)
    with session_scope(container.stores.moderation) as session:
        session.add(
            WebhookEndpoint(
                id="e" * 32,
                url="https://hooks.example/x",
                events=["comment.published"],
                secret="s",
                created_by="admin",
            )
        )
        session.flush()
        for cid in ids.values():
            session.add(
                WebhookEvent(
                    event_id=cid[:30] + "ev",
                    type="comment.published",
                    comment_id=cid,
                    article=SLUG,
                    at=now,
                )
            )
            session.add(
                WebhookDelivery(
                    delivery_id=f"d-{cid}",
                    endpoint_id="e" * 32,
                    event_id=cid[:30] + "ev",
                    type="comment.published",
                    comment_id=cid,
                    article=SLUG,
                    event_at=now,
                    status="delivered",
                    next_attempt_at=now,
                    deadline=now + timedelta(days=1),
                    last_status_code=204,
                )
            )
    return ids


def test_export_lists_the_webhook_rows_of_their_comments(make_container, backend):
    container = make_container()
    ids = world(container)
    body = export(container)
    assert [d["comment_id"] for d in body["webhook_deliveries"]] == [ids["mine"]]
    assert body["webhook_deliveries"][0]["last_status_code"] == 204
    assert [e["comment_id"] for e in body["webhook_events"]] == [ids["mine"]]


def test_a_delivery_after_the_erasure_carries_the_tombstone(make_container, backend):
    container = make_container()
    ids = world(container)
    erase_author(container, ADDRESS, "delete", "dpo")
    event = {
        "event_id": "x" * 32,
        "type": "comment.published",
        "comment_id": ids["mine"],
        "article": SLUG,
        "at": "2026-12-07T00:00:00Z",
    }
    sent = orjson.loads(body_of(container, event))
    assert sent["comment"]["author_name"] == "deleted"
    assert sent["comment"]["content"] == "" and sent["comment"]["author_url"] is None
    with container.stores.moderation_read() as session:  # kept: they name nobody
        kept = session.scalars(
            sa.select(WebhookDelivery.comment_id).where(WebhookDelivery.comment_id == ids["mine"])
        ).all()
    assert kept == [ids["mine"]]
    assert export(container)["webhook_deliveries"] == []  # nothing names the address now
