"""Periodic work of the beat process: the sweeper, the Akismet recheck and the purge.

Each returns what it did, so the task logs it and the CLI prints it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from redis.exceptions import LockError, RedisError
from sqlalchemy import and_, delete, or_, select, update

from shared import taskqueue
from shared.db import session_scope
from shared.models import Comment, CommentHistory, utcnow

if TYPE_CHECKING:
    from shared.bootstrap import Container

BATCH = 1000
# One sweep at a time writes the events of flagged comments (see _announce_flagged).
ANNOUNCE_LOCK = "parley:lock:announce"
ANNOUNCE_LOCK_SECONDS = 60


def sweep(container: Container) -> dict[str, int]:
    """Re-queue what was stored but never queued, stuck in a crashed check, or approved
    but not yet published; first write the ``comment.received`` events that the intake
    could not (Redis was down), dated at receipt.

    A comment is only re-queued once it is older than the lease, so a comment that is
    merely waiting its turn in a healthy queue is rarely queued twice; when it is, the
    second delivery finds nothing to claim. A comment whose hand-off failed is known never
    to have been queued, so it is queued at once, after its event.
    """
    unannounced = _announce_flagged(container)
    now = utcnow()
    grace = now - timedelta(seconds=container.settings.lease_seconds)
    with container.stores.moderation_read() as session:
        to_check = list(
            session.scalars(
                select(Comment.id)
                .where(
                    or_(
                        and_(Comment.status == "received", Comment.created_at < grace),
                        and_(Comment.status == "checking", Comment.lease_until < now),
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
    queued = sum(container.queue.send(taskqueue.CHECK, cid) for cid in to_check)
    queued += sum(container.queue.send(taskqueue.PUBLISH, cid) for cid in to_publish)
    return {
        "announced": len(unannounced),
        "check": len(to_check),
        "publish": len(to_publish),
        "queued": queued,
    }


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
    """Comments held for an Akismet error whose next check is due."""
    with container.stores.moderation_read() as session:
        return list(
            session.scalars(
                select(Comment.id)
                .where(Comment.status == "held", Comment.akismet_next_check_at <= utcnow())
                .order_by(Comment.akismet_next_check_at)
                .limit(limit)
            )
        )


def queue_rechecks(container: Container) -> dict[str, int]:
    """Queue the due Akismet rechecks (each task re-claims conditionally)."""
    ids = due_rechecks(container)
    queued = sum(container.queue.send(taskqueue.CHECK, cid, True) for cid in ids)
    return {"due": len(ids), "queued": queued}


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
