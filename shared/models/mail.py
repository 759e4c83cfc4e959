"""Tables of the moderation store that mail uses (shared/mail): the log of every mail,
the addresses that unsubscribed, and when each moderator last had a digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import ModerationBase, UTCDateTime, utcnow


class MailLog(ModerationBase):
    """One mail Parley decided to send: to whom, what kind, about which comment, and what
    became of it. The log doubles as the mail queue: a row is written (``pending``) before
    its send task is queued, claimed (``sending``, with a lease) by the task that sends it,
    and ends ``sent``, ``failed`` (refused for good, or out of attempts) or ``skipped``
    (the address unsubscribed). ``retry`` waits for ``next_attempt_at``.

    ``key`` is the mail's identity (``reply:<reply id>``, ``published:<comment id>``,
    ``digest:<moderator id>:<time>``): unique, so a task run twice plans one mail, and
    only the task holding the claim sends it.
    """

    __tablename__ = "mail_log"
    __table_args__ = (
        Index("ix_mail_log_to_address", "to_address"),
        Index("ix_mail_log_status_next", "status", "next_attempt_at"),
        Index("ix_mail_log_comment_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # reply | published | digest
    to_address: Mapped[str] = mapped_column(String(254))
    comment_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    # What the mail said beyond its comment: a digest's counts, a reply's parent id.
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class MailOptOut(ModerationBase):
    """An address that asked for no more mail (a one-click unsubscribe, or a moderator in
    the dashboard). Only the SHA-256 of the trimmed, lower-cased address is kept: the
    opt-out outlives an erasure of the person's data without keeping their address."""

    __tablename__ = "mail_optouts"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # link | dashboard


class ModeratorDigest(ModerationBase):
    """When a moderator last had a digest: the claim that keeps digests at most one per
    ``PARLEY_MODERATOR_DIGEST_MINUTES`` (a conditional update on this row)."""

    __tablename__ = "moderator_digests"

    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
