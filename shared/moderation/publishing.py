"""Putting approved comments into the article store exactly once, and taking them out.

The article store's primary key is the comment id, and the insert does nothing on
conflict, so a redelivered task, a sweeper re-queue or two racing workers can only ever
produce one public row. The moderation store's ``approved → published`` move is
conditional, so only one of them records the publication.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.models import Comment, PublishedComment, utcnow
from shared.moderation.transitions import Outbox, transition

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)


# Built once per dialect and executed with parameters, so SQLAlchemy's statement cache
# serves every publication.
_INSERTS = {
    name: module.insert(PublishedComment).on_conflict_do_nothing(index_elements=["id"])
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}


def insert_public_rows(session, rows: dict | list[dict]) -> None:
    """Insert public rows, skipping any that exist (the exactly-once key); ``session`` is
    a Session or a Core connection."""
    bind = session.get_bind() if isinstance(session, Session) else session
    dialect = bind.dialect.name
    session.execute(_INSERTS["postgresql" if dialect == "postgresql" else "sqlite"], rows)


def public_row(comment: Comment, now) -> dict:
    return dict(
        id=comment.id,
        article_slug=comment.article_slug,
        parent_id=comment.parent_id,
        author_name=comment.author_name,
        author_url=comment.author_url,
        content=comment.content,
        published_at=now,
    )


def _mark_published(session, comment: Comment, now, outbox: Outbox) -> bool:
    """The ``approved → published`` move; one publication more."""
    return transition(
        session,
        comment,
        "published",
        actor="publisher",
        action="publish",
        outbox=outbox,
        published_at=now,
        publication=Comment.publication + 1,
    )


def publish_in(session, comment: Comment, now, outbox: Outbox) -> bool:
    """Publish inside ``session`` when both stores share its database: the public row and
    the ``approved → published`` move commit together, or not at all. The move first: a
    comment no longer approved (erased meanwhile, shared.privacy.erase) gets no public row."""
    if not _mark_published(session, comment, now, outbox):
        return False
    insert_public_rows(session, public_row(comment, now))
    return True


def publish_comment(container: Container, comment_id: str) -> bool:
    """Publish an ``approved`` comment. Returns True if this call recorded the publication."""
    with container.stores.moderation_read() as session:
        comment = session.get(Comment, comment_id)
    if comment is None or comment.status != "approved":
        return False  # already published, or moved by a moderator: nothing to do
    return publish_loaded(container, comment)


def publish_loaded(container: Container, comment: Comment) -> bool:
    """Publish ``comment`` as read while ``approved`` (it may have moved since)."""
    comment_id = comment.id
    now = utcnow()
    outbox = Outbox()
    if container.stores.shared_database:
        with session_scope(container.stores.moderation) as session:
            done = publish_in(session, comment, now, outbox)
    else:
        # Two databases: the public row first (idempotent), then the move. A crash in
        # between leaves the comment approved; the sweeper publishes it again, and the
        # insert keyed by comment id does nothing the second time.
        with session_scope(container.stores.articles) as session:
            insert_public_rows(session, public_row(comment, now))
        with session_scope(container.stores.moderation) as session:
            done = _mark_published(session, comment, now, outbox)
        if not done:
            _take_back(container, comment_id)
    outbox.relay(container)
    if done:
        log.info(
            "comment published", extra={"comment_id": comment_id, "request_id": comment.request_id}
        )
    return done


def _take_back(container: Container, comment_id: str) -> None:
    """The move failed after the public row went in: keep the row only if the comment is
    published (another publisher won); one moved elsewhere meanwhile (an erasure takes an
    approved comment to ``erased``) must not stay public."""
    with container.stores.moderation_read() as session:
        status = session.scalar(select(Comment.status).where(Comment.id == comment_id))
    if status != "published":
        unpublish_comment(container, comment_id)


def unpublish_comment(container: Container, comment_id: str) -> None:
    """Remove a comment from the article store (idempotent)."""
    with session_scope(container.stores.articles) as session:
        session.execute(delete(PublishedComment).where(PublishedComment.id == comment_id))
