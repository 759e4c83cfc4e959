"""The check of comments: claim them, gather evidence, ask Akismet, decide, record.

A task checks the batch of one intake commit. No transaction is held open across the
Akismet calls: one transaction claims the batch with a lease, the calls run side by side
with no session, and one transaction records the verdicts, each by an update that
succeeds only if this worker still holds that comment's lease. A redelivered task finds
nothing to claim and returns.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError

from shared.articles import moderation_modes
from shared.classifier import live as classifier
from shared.intake import pressure
from shared.models import Comment, CommentHistory, history_row, utcnow
from shared.moderation.context import rule_context
from shared.moderation.policy import Decision, decide, heuristic_precheck
from shared.moderation.publishing import insert_public_rows, public_row, publish_comment
from shared.moderation.rules import CommentFacts, evaluate
from shared.moderation.transitions import Outbox, move_events
from shared.ops import series
from shared.ops.metrics import CHECK_SECONDS, COMMENTS_DECIDED
from shared.spam import akismet_payload

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    comment: Comment
    token: int  # attempts after the claim: the lease holder's proof

    @property
    def recheck(self) -> bool:
        """Whether this check is a recheck, as the row says: only a comment held for an
        Akismet error comes back to a check once decided. So a recheck stays one when its
        worker died and the sweeper's task, or the redelivered one, finishes it."""
        return self.comment.decided_at is not None


@dataclass(frozen=True)
class Judged:
    lease: Claimed
    decision: Decision
    akismet: dict


_NOW = bindparam("c_now", type_=Comment.updated_at.type)


def _claim_where(claimable):
    """The claim: a lease on each listed comment that is ``claimable`` now. Built once per
    kind, so each execution reuses the compiled statement. Core on a bare connection: no
    Session and no ORM bookkeeping inside the write lock."""
    return (
        update(Comment)
        .where(Comment.id.in_(bindparam("c_ids", expanding=True)), claimable)
        .values(
            status="checking",
            lease_until=bindparam("c_lease_until", type_=Comment.lease_until.type),
            attempts=Comment.attempts + 1,
            updated_at=_NOW,
        )
        .returning(Comment.id, Comment.attempts)
    )


# New comments, and those whose checking worker let its lease run out (it died).
_CLAIM = _claim_where(
    or_(
        Comment.status == "received",
        and_(Comment.status == "checking", Comment.lease_until < _NOW),
    )
)
# Comments held for an Akismet error whose recheck is due, and those whose rechecking
# worker died (a redelivered recheck finishes the job without waiting for the sweeper).
_CLAIM_HELD = _claim_where(
    or_(
        and_(Comment.status == "held", Comment.akismet_next_check_at <= _NOW),
        and_(Comment.status == "checking", Comment.lease_until < _NOW),
    )
)
_LOAD = select(Comment).where(Comment.id.in_(bindparam("c_ids", expanding=True)))


def claim(
    container: Container, comment_ids: list[str], recheck: bool = False, session=None
) -> list[Claimed]:
    """Take the lease on those of ``comment_ids`` that are ours to check, in one short write
    transaction; the others (decided, or leased to a live worker) are left alone. The
    rows are loaded in ``session`` (a read session of the moderation store), or in one of
    their own."""
    now = utcnow()
    with container.stores.moderation_engine.begin() as conn:
        claimed = conn.execute(
            _CLAIM_HELD if recheck else _CLAIM,
            {
                "c_ids": list(comment_ids),
                "c_now": now,
                "c_lease_until": now + timedelta(seconds=container.settings.lease_seconds),
            },
        ).all()
    if not claimed:
        return []
    tokens = dict(claimed)
    # The rows are loaded after the commit: the write lock (SQLite has one for the whole
    # database) is held for the update alone. Should anyone move a row meanwhile, the
    # record's guard (status and token) refuses this worker's decision.
    with nullcontext(session) if session is not None else container.stores.moderation_read() as s:
        comments = s.scalars(_LOAD, {"c_ids": list(tokens)}).all()
    return [Claimed(comment, tokens[comment.id]) for comment in comments]


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
    open meanwhile. The Akismet calls of a batch run side by side. A recheck (``recheck``,
    or a lease on a comment decided before) tells Akismet ``recheck_reason=retry``."""
    with container.stores.moderation_read() as session:
        planned = _plan(container, session, leases, recheck)
    return _ask(container, leases, *planned)


def _plan(container: Container, session, leases: list[Claimed], recheck: bool):
    """What the batch needs read: each comment's rule context and the classifier's model,
    in ``session``; the articles' moderation modes as they are now (pre-moderation holds
    what would be published), in the same session when both stores are one database.
    Then the rules: the comments they settle, and the Akismet questions for the rest."""
    settings = container.settings
    stores = container.stores
    contexts = [
        rule_context(session, settings, container.policy_cache, lease.comment) for lease in leases
    ]
    model = classifier.current_model(container, session)
    slugs = {lease.comment.article_slug for lease in leases}
    if stores.articles_read_engine is stores.moderation_read_engine:
        modes = moderation_modes(session, slugs)
    else:
        with stores.articles_read() as articles:
            modes = moderation_modes(articles, slugs)
    judged: list[Judged | None] = []
    asks = []  # (index, signals, thresholds, payload)
    for lease, (ctx, thresholds) in zip(leases, contexts, strict=True):
        ctx = classifier.with_verdict(ctx, model, lease.comment, container)
        signals = evaluate(CommentFacts.from_comment(lease.comment), ctx)
        decision = heuristic_precheck(signals, thresholds["spam_threshold"])
        if decision is not None:
            akismet = {"verdict": "skipped", "detail": "not consulted: " + decision.summary}
            judged.append(Judged(lease, decision, akismet))
            continue
        payload = akismet_payload(
            lease.comment, settings, recheck_reason="retry" if recheck or lease.recheck else None
        )
        asks.append((len(judged), signals, thresholds, payload))
        judged.append(None)
    return judged, asks, modes


def _ask(container: Container, leases: list[Claimed], judged: list, asks: list, modes: dict):
    """Akismet's answers to ``asks``, side by side, and the decisions they make."""
    checker = container.spam_checker
    payloads = [ask[3] for ask in asks]
    # While the intake is busy, the check gives up its turn during Akismet's answer
    # (shared.intake.pressure): a wait on another service costs this machine nothing.
    with pressure.waiting():
        # The first question is asked by this thread, the others by the pool meanwhile.
        others = [container.akismet_pool.submit(checker.check, p) for p in payloads[1:]]
        results = [checker.check(payloads[0])] if payloads else []
        results += [future.result() for future in others]
    for (index, signals, thresholds, _), result in zip(asks, results, strict=True):
        decision = decide(
            signals,
            result.verdict,
            thresholds["hold_threshold"],
            thresholds["spam_threshold"],
            akismet_detail=result.error,
            article_mode=modes.get(leases[index].comment.article_slug, "auto"),
        )
        judged[index] = Judged(leases[index], decision, result.as_record())
    return judged


def check_comments(
    container: Container, comment_ids: list[str], recheck: bool = False
) -> list[str | None]:
    """Check and decide a batch (one intake commit's comments): one transaction claims
    them, one records the decisions. Returns each comment's new status, or None where
    there was nothing to do (a redelivered batch skips what was decided)."""
    # The ops series' increments of the check (its Akismet requests, its decisions) are
    # written together at the end.
    with series.batched():
        statuses = _check(container, comment_ids, recheck)
    if statuses is None:
        return [None] * len(comment_ids)
    return [statuses.get(comment_id) for comment_id in comment_ids]


def _check(container: Container, comment_ids: list[str], recheck: bool) -> dict | None:
    # One read session for the batch's reads (the rows, their contexts, the model, the
    # modes), closed before Akismet is asked: a read open across the answers would keep
    # SQLite from checkpointing its log meanwhile.
    leases: list[Claimed] = []
    try:
        with container.stores.moderation_read() as session:
            leases = claim(container, comment_ids, recheck, session)
            if not leases:
                return None
            planned = _plan(container, session, leases, recheck)
        return record(container, _ask(container, leases, *planned), recheck)
    except Exception:
        if leases:  # a failed claim holds nothing to give back
            release(container, leases)
        raise


_RELEASE = (
    update(Comment)
    .where(
        Comment.id == bindparam("r_id"),
        Comment.status == "checking",
        Comment.attempts == bindparam("r_token"),
    )
    .values(lease_until=bindparam("r_until", type_=Comment.lease_until.type))
)


def release(container: Container, leases: list[Claimed]) -> None:
    """Give back the leases of a check that failed after its claim (a store or broker error
    the task retries), so its retry can claim the comments at once instead of finding
    them leased to itself until the lease runs out. Only leases still held are given
    back; if the store cannot be reached for this either, the leases expire as before."""
    expired = utcnow() - timedelta(seconds=1)
    values = [
        {"r_id": lease.comment.id, "r_token": lease.token, "r_until": expired} for lease in leases
    ]
    try:
        with container.stores.moderation_engine.begin() as conn:
            conn.execute(_RELEASE, values)
    except DBAPIError as exc:
        log.warning(
            "could not give back the leases of a failed check; they expire on their own",
            extra={"comment_ids": [v["r_id"] for v in values], "error": str(exc)[:300]},
        )


def check_comment(container: Container, comment_id: str, recheck: bool = False) -> str | None:
    """Check and decide one comment; returns its new status, or None if there was nothing to do."""
    return check_comments(container, [comment_id], recheck)[0]


# The decision of one comment, as one conditional update: only the lease holder (status
# still "checking", attempts unchanged since its claim) can record. Built once, so each
# execution is a cache hit; the values come from the claimed row and the decision.
_DECIDE = (
    update(Comment)
    .where(
        Comment.id == bindparam("b_id"),
        Comment.status == "checking",
        Comment.attempts == bindparam("b_token"),
    )
    .values(
        status=bindparam("b_status"),
        decision=bindparam("b_decision"),
        score=bindparam("b_score"),
        reasons=bindparam("b_reasons", type_=Comment.reasons.type),
        akismet=bindparam("b_akismet", type_=Comment.akismet.type),
        decided_at=bindparam("b_decided_at", type_=Comment.decided_at.type),
        updated_at=bindparam("b_updated_at", type_=Comment.updated_at.type),
        lease_until=None,
        akismet_next_check_at=bindparam("b_next_check", type_=Comment.akismet_next_check_at.type),
        published_at=bindparam("b_published_at", type_=Comment.published_at.type),
        publication=bindparam("b_publication"),
    )
)


def _decision_row(container: Container, item: Judged, recheck: bool, now, publish: bool):
    """The parameters of :data:`_DECIDE`, the history entries and the events of one
    decision."""
    comment, decision, akismet = item.lease.comment, item.decision, item.akismet
    recheck = recheck or item.lease.recheck
    if recheck:
        akismet["rechecks"] = int((comment.akismet or {}).get("rechecks", 0)) + 1
    next_check, gave_up = _next_check(container, comment, akismet["verdict"])
    status = "approved" if decision.status == "published" else decision.status
    history = [
        history_row(
            comment.id,
            now,
            "worker",
            "recheck" if recheck else "check",
            "checking",
            status,
            decision.summary + (f". {gave_up}" if gave_up else ""),
        )
    ]
    if publish and status == "approved":
        # One database for both stores: approved and published in the same transaction.
        history.append(
            history_row(comment.id, now, "publisher", "publish", "approved", "published")
        )
        status = "published"
    params = dict(
        b_id=comment.id,
        b_token=item.lease.token,
        b_status=status,
        b_decision=decision.status,
        b_score=decision.score,
        b_reasons=decision.reasons,
        b_akismet=akismet,
        b_decided_at=now,
        b_updated_at=now,
        b_next_check=next_check,
        b_published_at=now if status == "published" else comment.published_at,
        b_publication=comment.publication + (status == "published"),
    )
    moved = [
        event
        for entry in history
        for event in move_events(
            entry["from_status"], entry["to_status"], comment.id, comment.article_slug, now
        )
    ]
    return params, history, moved


def _store(conn, judged: list[Judged], prepared: list, now, outbox: Outbox):
    """The decisions inside the record transaction, from the parameters, history and
    events that :func:`_decision_row` prepared before it began (the write lock is held for
    the statements alone). Per comment, its new status, or None if the lease was lost.
    The events of the decisions recorded go into the outbox in the same transaction."""
    statuses: list[str | None] = []
    history: list[dict] = []
    public: list[dict] = []
    for item, (params, entries, moved) in zip(judged, prepared, strict=True):
        if conn.execute(_DECIDE, params).rowcount != 1:
            statuses.append(None)
            continue
        statuses.append(params["b_status"])
        history += entries
        outbox.events += moved
        if params["b_status"] == "published":
            public.append(public_row(item.lease.comment, now))
    if history:
        conn.execute(insert(CommentHistory), history)
    if public:
        insert_public_rows(conn, public)
    outbox.write(conn)  # the batch's events: one insert, after the updates
    return statuses


def record(container: Container, judged: list[Judged], recheck: bool) -> dict[str, str]:
    """Store the decisions still covered by their lease, in one transaction, and publish
    the approved ones. Returns {comment id: new status} for those recorded."""
    now = utcnow()
    outbox = Outbox()
    publish_here = container.stores.shared_database
    prepared = [_decision_row(container, item, recheck, now, publish_here) for item in judged]
    with container.stores.moderation_engine.begin() as conn:  # takes the write lock
        stored = _store(conn, judged, prepared, now, outbox)
    outbox.relay(container)
    statuses: dict[str, str] = {}
    timings = []
    for item, status in zip(judged, stored, strict=True):
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
        if status == "approved":  # the article store is another database
            publish_comment(container, comment.id)
            status = "published"
        statuses[comment.id] = status
    series.record_decisions(container.settings.redis_url, timings)
    return statuses
