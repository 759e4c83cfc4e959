"""Periodic work of the beat process: the sweeper, the Akismet recheck and the purge.

Each returns what it did, so the task logs it and the CLI prints it.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from redis.exceptions import LockError, RedisError
from sqlalchemy import and_, delete, func, or_, select, update

from shared import taskqueue
from shared.db import session_scope
from shared.models import Comment, CommentHistory, utcnow

if TYPE_CHECKING:
    from shared.bootstrap import Container

BATCH = 1000
# One sweep at a time writes the events of flagged comments (see _announce_flagged).
ANNOUNCE_LOCK = "parley:lock:announce"
ANNOUNCE_LOCK_SECONDS = 60
# The queue of the check tasks (the intake's batches, the sweeper's and the rechecks').
CHECKS_QUEUE = "checks"


def sweep(container: Container) -> dict[str, int]:
    """Re-queue what was stored but never queued, whose check task was lost, stuck in a
    crashed check, or approved but not yet published; first write the ``comment.received``
    events that the intake could not (Redis was down), dated at receipt.

    Only what is really orphaned is re-queued, so a queue that is merely behind is not
    multiplied (every copy of a task is a delivery for a worker to throw away, and a
    backlog re-queued each minute grows by itself):

    - a comment whose hand-off failed (flagged ``unannounced``) was never queued: queued
      at once, after its event;
    - a ``checking`` comment whose lease expired was claimed by a worker that died: its
      task is spent, so it is queued at once, unless the sweeper queued it again since
      the claim (then it is treated as below);
    - a ``received`` comment was queued when it was stored, or when the sweeper or the
      recheck last queued it (``queued_at``). The checks queue is first in, first out,
      so every task queued after the oldest one still waiting is still waiting too: a
      comment is re-queued only if it was last queued a lease's length (the margin for
      tasks queued out of order and for those a worker has taken but not yet claimed)
      before that oldest waiting task, or before now when the queue is empty
      (:func:`requeue_horizon`).

    Under a crash this still re-queues everything lost: a task lost with its worker, or
    with Redis's memory, is older than whatever is queued after it, so once the queue
    has worked down to the tasks queued a lease's length after it (at once if the queue
    is empty), it is re-queued. If it is re-queued while its first task was in fact still
    about (a worker's prefetched task, say), the second delivery finds nothing to claim.
    """
    unannounced = _announce_flagged(container)
    now = utcnow()
    horizon = requeue_horizon(container, now)
    last_queued = func.coalesce(Comment.queued_at, Comment.created_at)
    with container.stores.moderation_read() as session:
        to_check = list(
            session.scalars(
                select(Comment.id)
                .where(
                    or_(
                        and_(Comment.status == "received", last_queued < horizon),
                        and_(
                            Comment.status == "checking",
                            Comment.lease_until < now,
                            or_(
                                Comment.queued_at.is_(None),
                                Comment.queued_at < Comment.updated_at,  # before the claim
                                Comment.queued_at < horizon,
                            ),
                        ),
                    )
                )
                .order_by(Comment.created_at)
                .limit(BATCH)
            )
        )
        to_publish = list(
            session.scalars(
                select(Comment.id)
                .where(
                    Comment.status == "approved", Comment.updated_at < now - timedelta(seconds=30)
                )
                .order_by(Comment.updated_at)
                .limit(BATCH)
            )
        )
    # Those still received were never queued: no need to wait for the lease.
    to_check = list(
        dict.fromkeys([row.id for row in unannounced if row.status == "received"] + to_check)
    )
    sent = [cid for cid in to_check if container.queue.send(taskqueue.CHECK, cid)]
    _mark_queued(container, sent)
    queued = len(sent) + sum(container.queue.send(taskqueue.PUBLISH, cid) for cid in to_publish)
    return {
        "announced": len(unannounced),
        "check": len(to_check),
        "publish": len(to_publish),
        "queued": queued,
    }


def requeue_horizon(container: Container, now: datetime | None = None) -> datetime:
    """Comments last queued before this moment, and still unchecked, are not waiting in
    the checks queue: a lease's length before the oldest check task still waiting, or
    before now if none is (or Redis cannot say which)."""
    now = now or utcnow()
    oldest = oldest_waiting(container)
    return min(now, oldest or now) - timedelta(seconds=container.settings.lease_seconds)


def oldest_waiting(container: Container) -> datetime | None:
    """When the oldest check task still waiting in the queue was queued, or None (the
    queue is empty, Redis does not answer, or the task names no comment we know).

    kombu's Redis transport pushes on the left and workers pop on the right, so the
    rightmost message is the oldest. An intake batch was queued when its comments were
    stored; a single check when the sweeper or the recheck last queued the comment.
    """
    try:
        raw = container.redis.lindex(CHECKS_QUEUE, -1)
    except RedisError:
        return None
    ids, many = _task_comment_ids(raw)
    if not ids:
        return None
    queued = Comment.created_at if many else func.coalesce(Comment.queued_at, Comment.created_at)
    with container.stores.moderation_read() as session:
        return session.scalar(select(func.min(queued)).where(Comment.id.in_(ids[:BATCH])))


def _task_comment_ids(raw: str | bytes | None) -> tuple[list[str], bool]:
    """The comment ids a check task message names, and whether it is an intake batch."""
    if not raw:
        return [], False
    try:
        message = json.loads(raw)
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        many = message["headers"].get("task") == taskqueue.CHECK_MANY
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return [], False
    first = args[0] if args else None
    ids = first if isinstance(first, list) else [first]
    return [cid for cid in ids if isinstance(cid, str)], many


def _mark_queued(container: Container, ids: list[str]) -> None:
    """Record that the checks of ``ids`` were just queued (``Comment.queued_at``)."""
    if not ids:
        return
    now = utcnow()
    with container.stores.moderation_engine.begin() as conn:
        for start in range(0, len(ids), BATCH):
            conn.execute(
                update(Comment)
                .where(Comment.id.in_(ids[start : start + BATCH]))
                .values(queued_at=now)
            )


def _announce_flagged(container: Container) -> list:
    """Write the events of the comments flagged ``unannounced``; the rows announced (id,
    article, receipt time, status).

    One sweep at a time, under a lock in Redis: two at once (beat's and ``parley sweep``,
    or a sweep that outlived its interval) would both read the same flagged rows and
    write their events twice. A sweep that finds the lock taken leaves the flagged rows
    to the one that holds it; the lock expires after a minute if its holder dies. With
    Redis down nothing can be written, and the flags stay for a later sweep.
    """
    lock = container.redis.lock(ANNOUNCE_LOCK, timeout=ANNOUNCE_LOCK_SECONDS)
    try:
        if not lock.acquire(blocking=False):
            return []
    except RedisError:
        return []
    try:
        with container.stores.moderation_read() as session:
            rows = session.execute(
                select(Comment.id, Comment.article_slug, Comment.created_at, Comment.status)
                .where(Comment.unannounced)
                .order_by(Comment.created_at)
                .limit(BATCH)
            ).all()
        return rows if _announce(container, rows) else []
    finally:
        try:
            lock.release()
        except (LockError, RedisError):
            pass  # expired, or Redis went away: the lock lapses by itself


def _announce(container: Container, rows) -> bool:
    """Write the ``comment.received`` events of ``rows`` (id, article, receipt time) and
    clear their flag; whether they were written. Nothing is cleared if the events were not
    written; if clearing fails after they were, the next sweep writes them again."""
    if not rows:
        return False
    events = [("comment.received", row.id, row.article_slug, row.created_at) for row in rows]
    if not container.events.append_many(events):
        return False
    ids = [row.id for row in rows]
    with session_scope(container.stores.moderation) as session:
        session.execute(update(Comment).where(Comment.id.in_(ids)).values(unannounced=False))
    return True


def due_rechecks(container: Container, limit: int = BATCH) -> list[str]:
    """Comments held for an Akismet error whose next check is due, but for those whose
    recheck is already waiting in the queue (queued since it fell due, after the
    :func:`requeue_horizon`): a recheck tick every minute would otherwise queue the same
    comment again each minute that the queue is behind."""
    horizon = requeue_horizon(container)
    with container.stores.moderation_read() as session:
        return list(
            session.scalars(
                select(Comment.id)
                .where(
                    Comment.status == "held",
                    Comment.akismet_next_check_at <= utcnow(),
                    or_(
                        Comment.queued_at.is_(None),
                        Comment.queued_at < Comment.akismet_next_check_at,
                        Comment.queued_at < horizon,
                    ),
                )
                .order_by(Comment.akismet_next_check_at)
                .limit(limit)
            )
        )


def queue_rechecks(container: Container) -> dict[str, int]:
    """Queue the due Akismet rechecks (each task re-claims conditionally)."""
    ids = due_rechecks(container)
    sent = [cid for cid in ids if container.queue.send(taskqueue.CHECK, cid, True)]
    _mark_queued(container, sent)
    return {"due": len(ids), "queued": len(sent)}


def purge(container: Container) -> dict[str, int]:
    """Delete spam and discarded comments past their retention (with their history)."""
    settings = container.settings
    now = utcnow()
    counts = {}
    for status, days in (
        ("spam", settings.spam_retention_days),
        ("discarded", settings.discarded_retention_days),
    ):
        cutoff = now - timedelta(days=days)
        with session_scope(container.stores.moderation) as session:
            ids = list(
                session.scalars(
                    select(Comment.id)
                    .where(Comment.status == status, Comment.updated_at < cutoff)
                    .limit(10 * BATCH)
                )
            )
            if ids:
                session.execute(delete(CommentHistory).where(CommentHistory.comment_id.in_(ids)))
                session.execute(delete(Comment).where(Comment.id.in_(ids)))
        counts[status] = len(ids)
    return counts
