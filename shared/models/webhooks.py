"""Tables of the moderation store for webhooks (docs/contract.md §4, shared/webhooks): the
endpoints admins register, the events offered to them and every delivery made.

In the moderation store because a delivery names a comment (``comment_id``) and may carry
its public fields: the privacy export and erasure find them by that column.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import ModerationBase, UTCDateTime, new_id, utcnow

# 64-bit ids on PostgreSQL; on SQLite only an INTEGER PRIMARY KEY is the (64-bit) rowid.
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class WebhookEndpoint(ModerationBase):
    """A receiver registered by an admin: where to POST, which event types, the secret the
    signatures are made with. ``disabled_at``/``disabled_reason`` are set when it kept
    failing (shared.webhooks.delivery); a disabled endpoint gets no new deliveries."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    # Deliveries that ended ``failed`` in a row (after their whole retry window); a
    # delivered one sets it back to 0.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(ModerationBase):
    """An event offered to webhooks: the §6 fields of every event relayed from the outbox
    while at least one endpoint exists (and of a comment's receipt, see
    shared.webhooks.fanout). What a replay resends; purged after the retention."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_at", "at"),
        Index("ix_webhook_events_event_id", "event_id"),
        Index("ix_webhook_events_comment_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    comment_id: Mapped[str] = mapped_column(String(32))
    article: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(ModerationBase):
    """One event for one endpoint: its state, attempts and the last answer.

    ``status``: ``pending`` (waiting, or in flight), ``delivered``, ``failed`` (no 2xx
    before ``deadline``). Ids grow in fan-out order, so an endpoint's deliveries of one
    comment are sent in id order, each only once the one before it is settled. While one
    is in flight, ``next_attempt_at`` is its lease (a crashed attempt is due again when it
    lapses); ``queued_until`` keeps the periodic tick from queueing it twice meanwhile.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "comment_id", "status", "id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_comment_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    # X-Parley-Delivery: a UUID of its own per delivery row (a replay gets a new one).
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    comment_id: Mapped[str] = mapped_column(String(32))
    article: Mapped[str] = mapped_column(String(200))
    event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replay: Mapped[bool] = mapped_column(Boolean, server_default=false())

    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    # The first bytes of the last answer (RESPONSE_BYTES), as text.
    last_response: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
