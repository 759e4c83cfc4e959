"""Readers' mails: "someone replied to you" and "your held comment was published".

A commenter who asked for them (``notify`` on their comment, docs/contract.md §3) gets:

- a **reply** mail when a reply to that comment is published, unless the reply is their
  own (the same address); it shows the reply's author by name, never by address;
- a **published** mail when a moderator approved their comment (from held or spam) and
  it went out, not when the check published it at once.

Each published comment's mails are planned once (keys ``reply:<id>`` and
``published:<id>`` in the mail log), by the task queued after the publication commits
(:func:`plan_published`), or by beat's mail tick for a publication whose task was lost
(:func:`scan`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from shared.db import session_scope
from shared.mail import compose, log
from shared.models import Article, Comment, CommentHistory, MailLog

if TYPE_CHECKING:
    from shared.bootstrap import Container

# The tick looks for publications whose mails were never planned among comments received
# this recently, and published at least this long ago (the fast path's task has had time).
SCAN_WINDOW = timedelta(days=3)
SCAN_AFTER = timedelta(seconds=30)


class Gone(LookupError):
    """What a mail was about is no longer there (purged, erased or unpublished)."""


def _same_address(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _approved_by_moderator(comment_id: str):
    return exists(
        select(CommentHistory.id).where(
            CommentHistory.comment_id == comment_id, CommentHistory.action == "approve"
        )
    )


def mails_for(session: Session, comment: Comment) -> list[dict]:
    """The mails a published ``comment`` calls for (:func:`shared.mail.log.plan` keywords)."""
    mails = []
    if comment.notify and session.scalar(select(_approved_by_moderator(comment.id))):
        mails.append(
            dict(
                key=f"published:{comment.id}",
                kind="published",
                to=comment.author_email,
                comment_id=comment.id,
            )
        )
    if comment.parent_id:
        parent = session.get(Comment, comment.parent_id)
        if (
            parent is not None
            and parent.notify
            and not _same_address(parent.author_email, comment.author_email)
        ):
            mails.append(
                dict(
                    key=f"reply:{comment.id}",
                    kind="reply",
                    to=parent.author_email,
                    comment_id=comment.id,
                    detail={"parent_id": parent.id},
                )
            )
    return mails


def plan_published(container: Container, comment_ids: list[str]) -> list[int]:
    """Plan the mails of newly published comments; the ids of the mails planned now (a
    mail planned before is not planned again)."""
    if not container.settings.mail_configured or not comment_ids:
        return []
    with container.stores.moderation_read() as session:
        wanted = [
            (comment, mails)
            for comment in session.scalars(
                select(Comment).where(
                    Comment.id.in_(list(comment_ids)[:1000]),
                    Comment.status == "published",
                    or_(Comment.notify, Comment.parent_id.is_not(None)),
                )
            )
            if (mails := mails_for(session, comment))
        ]
    if not wanted:  # most publications: no write transaction at all
        return []
    planned = []
    with session_scope(container.stores.moderation) as session:
        for _comment, mails in wanted:
            for mail in mails:
                if (mail_id := log.plan(session, **mail)) is not None:
                    planned.append(mail_id)
    return planned


def scan(container: Container, now: datetime) -> list[str]:
    """Published comments whose mails should have been planned and were not (their task
    was lost): their ids, for :func:`plan_published`."""
    since, until = now - SCAN_WINDOW, now - SCAN_AFTER
    parent = aliased(Comment)
    recent = (
        Comment.status == "published",
        Comment.created_at >= since,
        Comment.published_at <= until,
    )

    def unplanned(kind: str):
        return ~exists(
            select(MailLog.id).where(MailLog.comment_id == Comment.id, MailLog.kind == kind)
        )

    replies = (
        select(Comment.id)
        .join(parent, parent.id == Comment.parent_id)
        .where(
            *recent,
            parent.notify,
            func.lower(parent.author_email) != func.lower(Comment.author_email),
            unplanned("reply"),
        )
    )
    approved = select(Comment.id).where(
        *recent, Comment.notify, _approved_by_moderator(Comment.id), unplanned("published")
    )
    with container.stores.moderation_read() as session:
        return list(dict.fromkeys([*session.scalars(replies), *session.scalars(approved)]))


def render(container: Container, row: MailLog) -> EmailMessage:
    """The message of a reader's mail, from the comments as they are now; :class:`Gone`
    if the comment (or, for a reply, its parent) is no longer there or no longer public."""
    with container.stores.moderation_read() as session:
        comment = session.get(Comment, row.comment_id)
        parent = (
            session.get(Comment, (row.detail or {}).get("parent_id", ""))
            if row.kind == "reply"
            else None
        )
    if comment is None or comment.status != "published":
        raise Gone("the comment is no longer published")
    if row.kind == "reply" and parent is None:
        raise Gone("the comment replied to is gone")
    with container.stores.articles_read() as session:
        article = session.get(Article, comment.article_slug)
    title = article.title if article is not None else comment.article_slug
    link = f"{comment.article_permalink}#comment-{comment.id}"
    if row.kind == "reply":
        body = compose.reply_body(
            title=title,
            link=link,
            reply_author=comment.author_name,
            reply_text=comment.content,
            your_text=parent.content,
        )
    else:
        body = compose.published_body(title=title, link=link, your_text=comment.content)
    return compose.message(container.settings, row.to_address, row.kind, body)
