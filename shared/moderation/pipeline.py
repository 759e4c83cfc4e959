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
from shared.ops import record_decisions
from shared.spam import akismet_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    comment: Comment
    token: int  # attempts after the claim: the lease holder's proof


@dataclass(frozen=True)
class Judged:
    lease: Claimed
    decision: Decision
    akismet: dict


def claim(container: Container, comment_ids: list[str], recheck: bool = False) -> list[Claimed]:
    """Take the lease on those of ``comment_ids`` that are ours to check, in one short write
    transaction; the others (decided, or leased to a live worker) are left alone."""
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
        comments = session.scalars(
            update(Comment)
            .where(Comment.id.in_(comment_ids), claimable)
            .values(
                status="checking",
                lease_until=now + timedelta(seconds=settings.lease_seconds),
                attempts=Comment.attempts + 1,
                updated_at=now,
            )
            .returning(Comment)
            .execution_options(synchronize_session=False)
        ).all()
    return [Claimed(comment, comment.attempts) for comment in comments]


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


def judge(container: Container, leases: list[Claimed], recheck: bool = False) -> list[Judged]:
    """Rules, then Akismet for the comments the rules did not settle; no transaction is
    open meanwhile. The Akismet calls of a batch run side by side."""
    settings = container.settings
    # Read outside any write transaction: SQLite's single write lock is held only for
    # the claim and the record.
    with container.stores.moderation_read() as session:
        contexts = [
            rule_context(session, settings, container.policy_cache, lease.comment)
            for lease in leases
        ]
    judged: list[Judged | None] = []
    asks = []  # (index, signals, thresholds, payload)
    for lease, (ctx, thresholds) in zip(leases, contexts, strict=True):
        signals = evaluate(CommentFacts.from_comment(lease.comment), ctx)
        decision = heuristic_precheck(signals, thresholds["spam_threshold"])
        if decision is not None:
            akismet = {"verdict": "skipped", "detail": "not consulted: " + decision.summary}
            judged.append(Judged(lease, decision, akismet))
            continue
        payload = akismet_payload(
            lease.comment, settings, recheck_reason="retry" if recheck else None
        )
        asks.append((len(judged), signals, thresholds, payload))
        judged.append(None)
    checker = container.spam_checker
    payloads = [ask[3] for ask in asks]
    if len(payloads) > 1:
        results = list(container.akismet_pool.map(checker.check, payloads))
    else:
        results = [checker.check(payload) for payload in payloads]
    for (index, signals, thresholds, _), result in zip(asks, results, strict=True):
        decision = decide(
            signals,
            result.verdict,
            thresholds["hold_threshold"],
            thresholds["spam_threshold"],
            akismet_detail=result.error,
        )
        judged[index] = Judged(leases[index], decision, result.as_record())
    return judged


def check_comments(
    container: Container, comment_ids: list[str], recheck: bool = False
) -> list[str | None]:
    """Check and decide a batch (one intake commit's comments): one transaction claims
    them, one records the decisions. Returns each comment's new status, or None where
    there was nothing to do (a redelivered batch skips what was decided)."""
    leases = claim(container, comment_ids, recheck)
    if not leases:
        return [None] * len(comment_ids)
    statuses = record(container, judge(container, leases, recheck), recheck)
    return [statuses.get(comment_id) for comment_id in comment_ids]


def check_comment(container: Container, comment_id: str, recheck: bool = False) -> str | None:
    """Check and decide one comment; returns its new status, or None if there was nothing to do."""
    return check_comments(container, [comment_id], recheck)[0]


def _store(session, container: Container, item: Judged, recheck: bool, now, outbox: Outbox):
    """One decision inside the record transaction: (new status or None if the lease was
    lost, whether it was published in this same transaction)."""
    comment, decision, akismet = item.lease.comment, item.decision, item.akismet
    if recheck:
        akismet["rechecks"] = int((comment.akismet or {}).get("rechecks", 0)) + 1
    next_check, gave_up = _next_check(container, comment, akismet["verdict"])
    status = "approved" if decision.status == "published" else decision.status
    done = transition(
        session,
        comment,
        status,
        actor="worker",
        action="recheck" if recheck else "check",
        note=decision.summary + (f". {gave_up}" if gave_up else ""),
        guard=Comment.attempts == item.lease.token,
        outbox=outbox,
        decided_at=now,
        score=decision.score,
        reasons=decision.reasons,
        decision=decision.status,
        akismet=akismet,
        lease_until=None,
        akismet_next_check_at=next_check,
    )
    if not done:
        return None, False
    # One database for both stores: publish in this same transaction (one commit).
    if status == "approved" and container.stores.shared_database:
        comment.status = "approved"
        return status, publish_in(session, comment, now, outbox)
    return status, False


def record(container: Container, judged: list[Judged], recheck: bool) -> dict[str, str]:
    """Store the decisions still covered by their lease, in one transaction, and publish
    the approved ones. Returns {comment id: new status} for those recorded."""
    now = utcnow()
    outbox = Outbox()
    with session_scope(container.stores.moderation) as session:
        stored = [_store(session, container, item, recheck, now, outbox) for item in judged]
    outbox.flush(container)
    statuses: dict[str, str] = {}
    timings = []
    for item, (status, published) in zip(judged, stored, strict=True):
        comment, decision = item.lease.comment, item.decision
        if status is None:
            log.warning(
                "lease lost before recording; another worker owns the comment",
                extra={"comment_id": comment.id},
            )
            continue
        COMMENTS_DECIDED.labels(decision=decision.status).inc()
        first = comment.decided_at is None  # a recheck's comment was decided before
        seconds = (now - comment.created_at).total_seconds()
        if first:
            CHECK_SECONDS.observe(seconds)
        timings.append((decision.status, seconds if first else None))
        log.info(
            "comment decided",
            extra={
                "comment_id": comment.id,
                "request_id": comment.request_id,
                "decision": decision.status,
                "score": decision.score,
                "akismet": item.akismet.get("verdict"),
            },
        )
        if status == "approved":
            if not published:
                publish_comment(container, comment.id)
            status = "published"
        statuses[comment.id] = status
    record_decisions(container.settings.redis_url, timings)
    return statuses
