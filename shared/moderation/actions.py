"""Moderators' actions (docs/contract.md §4) through the one state machine, and Akismet feedback.

Used by the admin JSON API and the dashboard alike, so both give the same answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shared import taskqueue
from shared.classifier.store import learn_from_action
from shared.db import session_scope
from shared.models import Comment, CommentHistory, utcnow
from shared.moderation import reports
from shared.moderation.publishing import publish_comment, unpublish_comment
from shared.moderation.states import (
    IllegalTransition,
    akismet_feedback,
    moderator_move,
    needs_unpublish,
)
from shared.moderation.transitions import Outbox, transition
from shared.spam import FeedbackError, akismet_payload
from shared.timefmt import iso

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)

ACTION_NOTES = {"approve": "approved", "spam": "marked as spam", "reject": "rejected"}


class CommentNotFound(LookupError):
    pass


class Conflict(IllegalTransition):
    """The comment changed under the moderator (a worker or another moderator)."""


def record_json(comment: Comment) -> dict:
    """The whole record of a comment for moderators (docs/contract.md §4)."""
    akismet = dict(comment.akismet or {})
    akismet.setdefault("verdict", "skipped" if comment.decided_at else None)
    return {
        "id": comment.id,
        "article": comment.article_slug,
        "status": comment.status,
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
        "content": comment.content,
        "parent_id": comment.parent_id,
        "user_ip": comment.user_ip,
        "user_agent": comment.user_agent,
        "referrer": comment.referrer,
        "permalink": comment.article_permalink,
        "created_at": iso(comment.created_at, precise=True),
        "decided_at": iso(comment.decided_at, precise=True),
        "published_at": iso(comment.published_at, precise=True),
        "score": comment.score,
        "decision": comment.decision,
        "reasons": list(comment.reasons or []),
        "akismet": akismet,
        "form_token": {"status": comment.form_token_status, "age_seconds": comment.form_token_age},
        "honeypot": comment.honeypot,
        "attempts": comment.attempts,
        "request_id": comment.request_id,
        "history": [
            {
                "at": iso(h.at, precise=True),
                "actor": h.actor,
                "action": h.action,
                "from": h.from_status,
                "to": h.to_status,
                "note": h.note,
            }
            for h in comment.history
        ],
    }


def load(container: Container, comment_id: str) -> Comment:
    """A comment with its history, or :class:`CommentNotFound`."""
    with container.stores.moderation_read() as session:
        comment = session.scalar(
            select(Comment)
            .options(selectinload(Comment.history))
            .where(Comment.id == comment_id[:64])
        )
    if comment is None:
        raise CommentNotFound(comment_id)
    return comment


@dataclass(frozen=True)
class ActionResult:
    comment: Comment
    feedback: str | None  # "ham" / "spam" queued for Akismet, if any


def moderate(
    container: Container, comment_id: str, action: str, actor: str, note: str | None = None
) -> ActionResult:
    """Apply a moderator's action. Raises :class:`IllegalTransition` (409) or
    :class:`CommentNotFound` (404)."""
    comment = load(container, comment_id)
    target = moderator_move(comment.status, action)
    from_status = comment.status
    outbox = Outbox()
    values = {"decided_at": utcnow()} if from_status in ("held", "spam") else {}
    with session_scope(container.stores.moderation) as session:
        if not transition(
            session, comment, target, actor=actor, action=action, note=note, outbox=outbox, **values
        ):
            raise Conflict(
                f"the comment changed while you were deciding (it is no longer {from_status}); reload it"
            )
        # The decision is a label for the classifier, in the same unit of work.
        learn_from_action(session, comment, action)
        if action == "approve":
            # Readers' reports are answered: they stay, cleared, and never hold it again.
            reports.clear(session, comment.id, actor)
    outbox.relay(container)
    if needs_unpublish(from_status, target):
        try:
            unpublish_comment(container, comment.id)
        except Exception:  # the article store is down: let a worker retry
            log.exception("unpublish failed; queued", extra={"comment_id": comment.id})
            container.queue.send(taskqueue.UNPUBLISH, comment.id)
    if target == "approved":
        try:
            publish_comment(container, comment.id)
        except Exception:
            log.exception("publish failed; queued", extra={"comment_id": comment.id})
            container.queue.send(taskqueue.PUBLISH, comment.id)
    feedback = akismet_feedback(action, (comment.akismet or {}).get("verdict"))
    if feedback:
        container.queue.send(taskqueue.FEEDBACK, comment.id, feedback, actor)
    log.info(
        "moderator action",
        extra={
            "comment_id": comment.id,
            "action": action,
            "actor": actor,
            "from": from_status,
            "to": target,
        },
    )
    return ActionResult(load(container, comment.id), feedback)


def send_feedback(
    container: Container, comment_id: str, kind: str, actor: str = "moderator"
) -> bool:
    """Report a moderator's correction to Akismet with the original submitter's data.

    Raises :class:`FeedbackError` (``transient`` tells the task whether to retry).
    """
    comment = load(container, comment_id)
    if not comment.user_ip:
        # Removed after PARLEY_IP_RETENTION_DAYS or by an erasure (shared.privacy), and
        # Akismet takes no report without it: the correction stays ours alone.
        sent, note = False, "not reported to Akismet: the comment's IP address was removed"
    else:
        payload = akismet_payload(comment, container.settings)
        checker = container.spam_checker
        sent = checker.submit_ham(payload) if kind == "ham" else checker.submit_spam(payload)
        note = (
            f"reported to Akismet as {kind} after {actor}'s correction"
            if sent
            else "Akismet not configured; nothing reported"
        )
    with session_scope(container.stores.moderation) as session:
        session.add(
            CommentHistory(
                comment_id=comment.id,
                at=utcnow(),
                actor="worker",
                action=f"akismet_submit_{kind}",
                from_status=None,
                to_status=None,
                note=note,
            )
        )
    return sent


__all__ = [
    "ActionResult",
    "CommentNotFound",
    "Conflict",
    "FeedbackError",
    "IllegalTransition",
    "load",
    "moderate",
    "record_json",
    "send_feedback",
]
