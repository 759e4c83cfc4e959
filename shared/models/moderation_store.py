"""Tables of the moderation store: every submission with its private data and history,
the moderation lists and settings, and the dashboard's accounts and audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import ModerationBase, UTCDateTime, new_id, utcnow


class Comment(ModerationBase):
    """One submission, from intake to its final state, with all Akismet and moderators need."""

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("article_slug", "fingerprint", name="uq_comments_article_fingerprint"),
        Index("ix_comments_status_created", "status", "created_at"),
        Index("ix_comments_status_lease", "status", "lease_until"),
        Index("ix_comments_recheck", "status", "akismet_next_check_at"),
        Index("ix_comments_author_email", "author_email"),
        # The author's record (shared/moderation/context.py): both counts by lookup.
        Index("ix_comments_author_key_status", "author_key", "status"),
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
    # Whose record the comment adds to: SHA-256 of the commenter key the reader holds
    # (shared.commenter.author_key), never the e-mail address anyone can type. NULL for
    # comments stored before it (mod0011): they count for no one.
    author_key: Mapped[str | None] = mapped_column(String(64))
    # The host site signed for author_email (an author_token): the trusted list applies.
    author_verified: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The commenter asked for mail about replies and publication (docs/contract.md §3
    # ``notify``; shared/mail).
    notify: Mapped[bool] = mapped_column(Boolean, server_default=false())

    # sha256 of (normalised e-mail, content): same author + same text on one article = 409.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # sha256 of the normalised text alone: the same text across the site.
    content_hash: Mapped[str] = mapped_column(String(64))
    # SHA-256 (hex) of the whole Idempotency-Key (shared.intake.submit.key_digest), not the key.
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
    # When the sweeper or the Akismet recheck last queued the comment's check. NULL: only
    # the intake's hand-off queued it, at ``created_at`` (the hand-off writes nothing more).
    # The sweeper compares it with the oldest message still waiting in the queue, so a
    # comment whose check is merely waiting is not queued again (maintenance.sweep).
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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


class EventOutbox(ModerationBase):
    """An event (docs/contract.md §6) recorded with its status change, not yet relayed.

    Inserted in the transaction that makes the change, so the change and its event commit
    together or not at all, whether or not Redis answers. Relayed to ``parley:events`` in
    ``id`` order and deleted once Redis took it (:mod:`shared.events`). ``event_id`` is
    drawn once, at insert: every relay of the row, a repeat after a crash included, sends
    the same one. No foreign key: a comment purged before its last event is relayed still
    has that event sent.
    """

    __tablename__ = "event_outbox"
    __table_args__ = (Index("ix_event_outbox_comment_id", "comment_id"),)

    # Ids grow with each insert, so one comment's pending events sort in the order of its
    # changes (each change is inserted after its conditional update, which waits for the
    # previous change to commit). 64-bit on PostgreSQL; on SQLite only an INTEGER PRIMARY
    # KEY is the (64-bit) rowid, and a new rowid is above every row present.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    comment_id: Mapped[str] = mapped_column(String(32))
    article: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ListEntry(ModerationBase):
    """An entry of a moderation list (block words, blocked IPs, trusted authors, …)."""

    __tablename__ = "list_entries"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_list_entries_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    value: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="system")
    # on | trial (evaluated, shown, not counted) | off (not evaluated): docs/contract.md §4.
    mode: Mapped[str] = mapped_column(String(8), default="on", server_default="on")


class RuleSetting(ModerationBase):
    """An admin's mode (on | trial | off) or weight for one rule; a rule without a row is
    on, at its default weight (shared.moderation.modes)."""

    __tablename__ = "rule_settings"

    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default="on")
    weight: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))


class SettingOverride(ModerationBase):
    """A moderation setting changed in the dashboard; wins over the environment default."""

    __tablename__ = "setting_overrides"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))


class Moderator(ModerationBase):
    """A person who may sign in to the dashboard; admins also manage lists and accounts."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="moderator")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AuditLog(ModerationBase):
    """Who changed what in the dashboard (lists, settings, accounts), and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_actor_at", "actor", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class DashboardSession(ModerationBase):
    """A signed-in dashboard session. Its cookie carries a random token; only the token's
    SHA-256 is stored, so the table alone gives nobody a usable cookie. Deleting the row ends
    the session for every copy of the cookie (sign-out, a password change, a disabled
    account); ``expires_at`` is fixed at sign-in and never moves, however much it is used."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrainingExample(ModerationBase):
    """A labelled example the classifier learns from (shared.classifier.store).

    ``source`` says whose label it is: ``moderator`` (an approve or a spam decision),
    ``reversal`` (a moderator changed an earlier label: the row is updated, not added),
    ``import`` (a comment imported with its status) or ``csv`` (``parley train import``).
    A comment has at most one example (``comment_id``); examples from files have none and
    are told apart by ``digest`` (SHA-256 of text and author fields), so a file imported
    twice adds nothing. No foreign key: a purged comment's example stays to be learned
    from. ``updated_at`` moves with every change; beat retrains once enough have moved
    since the current model's ``labels_through``.
    """

    __tablename__ = "training_examples"
    __table_args__ = (Index("ix_training_examples_updated_at", "updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str] = mapped_column(String(100), default="")
    author_url: Mapped[str | None] = mapped_column(String(2048))
    label: Mapped[int] = mapped_column(SmallInteger)  # 1 spam, 0 ham
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClassifierModel(ModerationBase):
    """One trained version of the site's classifier: JSON parameters and the weights as
    numpy bytes (shared.classifier.codec; never pickle). Every worker scores with the
    highest version (shared.classifier.cache); a few older ones are kept."""

    __tablename__ = "classifier_models"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The newest example's updated_at when the training set was read.
    labels_through: Mapped[datetime | None] = mapped_column(UTCDateTime)
    n_ham: Mapped[int] = mapped_column(Integer)
    n_spam: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict] = mapped_column(JSON)
    coef: Mapped[bytes] = mapped_column(LargeBinary)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)


class CommentReport(ModerationBase):
    """A reader's report of a published comment (docs/contract.md §3, shared.moderation.reports).

    ``reader_key`` says who reported, never in the clear: for a reader who sent their
    commenter token, the same hash as ``comments.author_key`` of their own comments
    (shared.commenter.author_key); otherwise a keyed hash (HMAC with the secret key) of the
    client IP. One report per reader per comment, ever (the unique constraint): a repeat,
    also after a moderator cleared the reports, counts nothing. ``cleared_at`` is set when a
    moderator approves the comment or dismisses its reports: cleared reports stay, and no
    longer count toward the threshold.
    """

    __tablename__ = "comment_reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "reader_key", name="uq_comment_reports_comment_reader"),
        Index("ix_comment_reports_reader_key", "reader_key"),
        Index("ix_comment_reports_open", "comment_id", "cleared_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reader_kind: Mapped[str] = mapped_column(String(16))  # commenter | ip
    reader_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(254))
