"""Tables of the two stores.

``ModerationBase`` tables live in the moderation store (private data: e-mail, IP, verdicts).
``ArticleBase`` tables live in the article store (what the public may see). The article
store never references the moderation store with a foreign key, so the two can be separate
databases.
"""

from __future__ import annotations

from datetime import UTC, datetime

import uuid_utils
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Comment id: a UUIDv7 (RFC 9562) as 32 hex digits.

    It starts with the millisecond it was made, so new rows go to the end of the
    primary-key index and of the history's index on it, instead of each dirtying a random
    page of both (intake benchmark: +5 % over 24 interleaved rounds, within its noise).
    After the time come a counter that starts at a random value every millisecond and 32
    random bits, so an id reveals no volume and cannot be guessed from another. The time
    it shows is the submission's, which comment pages commonly show anyway. uuid-utils
    draws from a CSPRNG inside the process (reseeded after fork): no system call, which in
    a request thread would hand the GIL to another thread.
    """
    return uuid_utils.uuid7().hex


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class ModerationBase(DeclarativeBase):
    pass


class ArticleBase(DeclarativeBase):
    pass


# --- moderation store -------------------------------------------------------------------


class Comment(ModerationBase):
    """One submission, from intake to its final state, with all Akismet and moderators need."""

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("article_slug", "fingerprint", name="uq_comments_article_fingerprint"),
        Index("ix_comments_status_created", "status", "created_at"),
        Index("ix_comments_status_lease", "status", "lease_until"),
        Index("ix_comments_recheck", "status", "akismet_next_check_at"),
        Index("ix_comments_author_email", "author_email"),
        Index("ix_comments_content_hash_created", "content_hash", "created_at"),
        # Holds only the rows whose flag is set (see ``unannounced``): new comments never
        # touch it.
        Index(
            "ix_comments_unannounced",
            "created_at",
            sqlite_where=text("unannounced = 1"),
            postgresql_where=text("unannounced"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    article_slug: Mapped[str] = mapped_column(String(200), index=True)
    article_permalink: Mapped[str] = mapped_column(String(2048))
    parent_id: Mapped[str | None] = mapped_column(String(32))

    author_name: Mapped[str] = mapped_column(String(100))
    author_email: Mapped[str] = mapped_column(String(254))
    author_url: Mapped[str | None] = mapped_column(String(2048))
    content: Mapped[str] = mapped_column(Text)

    user_ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(1024))
    referrer: Mapped[str | None] = mapped_column(String(2048))
    accept_language: Mapped[str | None] = mapped_column(String(256))
    honeypot: Mapped[bool] = mapped_column(Boolean, default=False)
    form_token_status: Mapped[str] = mapped_column(String(16), default="missing")
    form_token_age: Mapped[float | None] = mapped_column(Float)

    # sha256 of (normalised e-mail, content): same author + same text on one article = 409.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # sha256 of the normalised text alone: the same text across the site.
    content_hash: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    request_id: Mapped[str | None] = mapped_column(String(64))

    status: Mapped[str] = mapped_column(String(16), default="received")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Set only when the comment's ``comment.received`` event and its check task could not
    # be handed to Redis after the commit (Redis down): the sweeper then writes the event,
    # dated at receipt, and queues the check. Cleared once the event is written.
    unannounced: Mapped[bool] = mapped_column(Boolean, server_default=false())

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every publication so that each publication has its own exactly-once key.
    publication: Mapped[int] = mapped_column(Integer, default=0)

    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    decision: Mapped[str | None] = mapped_column(String(16))
    akismet: Mapped[dict] = mapped_column(JSON, default=dict)
    akismet_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    history: Mapped[list[CommentHistory]] = relationship(
        back_populates="comment", order_by="CommentHistory.id", cascade="all, delete-orphan"
    )


class CommentHistory(ModerationBase):
    """Every status change and moderator action: who, when, from, to, why."""

    __tablename__ = "comment_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)

    comment: Mapped[Comment] = relationship(back_populates="history")


def history_row(
    comment_id: str,
    at: datetime,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    note: str | None = None,
) -> dict:
    """The values of one :class:`CommentHistory` row, for a Core insert."""
    return dict(
        comment_id=comment_id,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


class ListEntry(ModerationBase):
    """An entry of a moderation list (block words, blocked IPs, trusted authors, …)."""

    __tablename__ = "list_entries"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_list_entries_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    value: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="system")


class SettingOverride(ModerationBase):
    """A moderation setting changed in the dashboard; wins over the environment default."""

    __tablename__ = "setting_overrides"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))


# --- article store ----------------------------------------------------------------------


class Article(ArticleBase):
    __tablename__ = "articles"

    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2048))
    summary: Mapped[str] = mapped_column(Text, default="")
    comments_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublishedComment(ArticleBase):
    """A comment as the public sees it. Keyed by the comment id: one row per publication."""

    __tablename__ = "published_comments"
    __table_args__ = (Index("ix_published_article_order", "article_slug", "published_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    article_slug: Mapped[str] = mapped_column(
        ForeignKey("articles.slug", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[str | None] = mapped_column(String(32))
    author_name: Mapped[str] = mapped_column(String(100))
    author_url: Mapped[str | None] = mapped_column(String(2048))
    content: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


from shared import accounts  # noqa: E402,F401  (registers the dashboard's tables)
