"""The check of one comment: claim it, gather evidence, ask Akismet, decide, record.

No transaction is held open across the Akismet call: the claim commits a lease, the call
runs with no session, and the verdict is recorded by an update that succeeds only if this
worker still holds the lease. A redelivered task finds nothing to claim and returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, update

from shared.bootstrap import Container
from shared.db import session_scope
from shared.metrics import CHECK_SECONDS, COMMENTS_DECIDED
from shared.models import Comment, utcnow
from shared.moderation.context import rule_context
from shared.moderation.policy import Decision, decide, heuristic_precheck
from shared.moderation.publishing import publish_comment, publish_in
from shared.moderation.rules import CommentFacts, evaluate
from shared.moderation.transitions import Outbox, transition
from shared.ops import record_decision
from shared.spam import akismet_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    comment: Comment
    token: int  # attempts after the claim: the lease holder's proof


def claim(container: Container, comment_id: str, recheck: bool = False):
    """Take the lease on a comment and load what its check needs, or None if not ours."""
    settings = container.settings
    now = utcnow()
    if recheck:
        claimable = and_(Comment.status == "held", Comment.akismet_next_check_at <= now)
    else:
        claimable = or_(
            Comment.status == "received",
            and_(Comment.status == "checking", Comment.lease_until < now),
        )
    with session_scope(container.stores.moderation) as session:
        comment = session.scalars(
            update(Comment)
            .where(Comment.id == comment_id, claimable)
            .values(
                status="checking",
                lease_until=now + timedelta(seconds=settings.lease_seconds),
                attempts=Comment.attempts + 1,
                updated_at=now,
            )
            .returning(Comment)
            .execution_options(synchronize_session=False)
        ).one_or_none()
    if comment is None:
        return None
    # Read outside the write transaction: SQLite's single write lock is held only for
    # the claim itself.
    with container.stores.moderation_read() as session:
        ctx, thresholds = rule_context(session, settings, container.policy_cache, comment)
    return Claimed(comment, comment.attempts), ctx, thresholds


def _next_check(container: Container, comment: Comment, verdict: str):
    """When to ask Akismet again after an error; None once we give up (15 days)."""
    if verdict != "error":
        return None, None
    settings = container.settings
    now = utcnow()
    if now - comment.created_at > timedelta(days=settings.akismet_giveup_days):
        return (
            None,
            f"Akismet rechecks given up after {settings.akismet_giveup_days:g} days; a moderator must decide",
        )
    return now + timedelta(seconds=settings.akismet_recheck_seconds), None


def check_comment(container: Container, comment_id: str, recheck: bool = False) -> str | None:
    """Check and decide one comment; returns its new status, or None if there was nothing to do."""
    claimed = claim(container, comment_id, recheck)
    if claimed is None:
        return None
    lease, ctx, thresholds = claimed
    comment = lease.comment
    signals = evaluate(CommentFacts.from_comment(comment), ctx)
    decision = heuristic_precheck(signals, thresholds["spam_threshold"])
    if decision is not None:
        akismet = {"verdict": "skipped", "detail": "not consulted: " + decision.summary}
    else:
        payload = akismet_payload(
            comment, container.settings, recheck_reason="retry" if recheck else None
        )
        result = container.spam_checker.check(payload)
        akismet = result.as_record()
        decision = decide(
            signals,
            result.verdict,
            thresholds["hold_threshold"],
            thresholds["spam_threshold"],
            akismet_detail=result.error,
        )
    return record(container, lease, decision, akismet, recheck)


def check_comments(container: Container, comment_ids: list[str]) -> list[str | None]:
    """Check a batch handed over by one intake commit, one comment after another.

    Each comment is claimed on its own, so a redelivered batch skips what was decided.
    """
    return [check_comment(container, comment_id) for comment_id in comment_ids]


def record(
    container: Container, lease: Claimed, decision: Decision, akismet: dict, recheck: bool
) -> str | None:
    """Store the decision if we still hold the lease; publish if approved."""
    comment = lease.comment
    previous = comment.akismet or {}
    if recheck:
        akismet["rechecks"] = int(previous.get("rechecks", 0)) + 1
    next_check, gave_up = _next_check(container, comment, akismet["verdict"])
    note = decision.summary + (f". {gave_up}" if gave_up else "")
    status = "approved" if decision.status == "published" else decision.status
    now = utcnow()
    outbox = Outbox()
    with session_scope(container.stores.moderation) as session:
        done = transition(
            session,
            comment,
            status,
            actor="worker",
            action="recheck" if recheck else "check",
            note=note,
            guard=Comment.attempts == lease.token,
            outbox=outbox,
            decided_at=now,
            score=decision.score,
            reasons=decision.reasons,
            decision=decision.status,
            akismet=akismet,
            lease_until=None,
            akismet_next_check_at=next_check,
        )
        # One database for both stores: publish in this same transaction (one commit).
        published = False
        if done and status == "approved" and container.stores.shared_database:
            comment.status = "approved"
            published = publish_in(session, comment, now, outbox)
    if not done:
        log.warning(
            "lease lost before recording; another worker owns the comment",
            extra={"comment_id": comment.id},
        )
        return None
    outbox.flush(container)
    COMMENTS_DECIDED.labels(decision=decision.status).inc()
    if comment.decided_at is None:
        CHECK_SECONDS.observe((now - comment.created_at).total_seconds())
    record_decision(
        container.settings.redis_url,
        decision.status,
        None if comment.decided_at else (now - comment.created_at).total_seconds(),
    )
    log.info(
        "comment decided",
        extra={
            "comment_id": comment.id,
            "request_id": comment.request_id,
            "decision": decision.status,
            "score": decision.score,
            "akismet": akismet.get("verdict"),
        },
    )
    if status == "approved":
        if not published:
            publish_comment(container, comment.id)
        return "published"
    return status
