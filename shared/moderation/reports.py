"""Readers' reports of published comments (docs/contract.md §3, issue 25 item 3).

A reader reports a published comment with a reason (and perhaps a note). Each reader
counts once per comment, ever: the table's unique constraint on (comment, reader) holds it,
and a repeat is answered as such and counts nothing. Who the reader is: the commenter key
they hold when they send their commenter token (stored as the same hash as the
``author_key`` of their own comments, shared.commenter), otherwise their IP, stored only
as a keyed hash (HMAC with the secret key): the table holds no address.

When the reports that are not cleared reach ``PARLEY_REPORT_THRESHOLD``, the comment is
held with the reason ``reader_reports`` (the reasons given, counted) and taken out of the
article store, exactly as a moderator's unpublish: the conditional ``published → held``
move of :mod:`shared.moderation.transitions`, its ``comment.unpublished`` and
``comment.held`` events; the public row is deleted in the same transaction when both stores
share a database, else after the commit by
:func:`shared.moderation.publishing.unpublish_comment` (queued if the article store fails).
Each report is one unit of work that first locks the comment's row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite's writers are one at a time), so concurrent reports are
counted one after another and the one that reaches the threshold holds the comment once.

A moderator who approves the comment again clears its reports (:func:`clear`, called in
the approval's unit of work): they stay, marked cleared, and no longer count, so the same
reports never hold it again; new readers' reports count afresh. A moderator may also
dismiss the reports of a comment that is still published (the dashboard's Reported page).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import commenter, events, taskqueue
from shared.db import session_scope
from shared.models import (
    Comment,
    CommentHistory,
    CommentReport,
    PublishedComment,
    history_row,
    utcnow,
)
from shared.moderation.publishing import unpublish_comment
from shared.moderation.states import system_move
from shared.moderation.transitions import Outbox, transition
from shared.ops.metrics import REPORTS

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)

RULE = "reader_reports"  # the reason rule of a comment held by readers
ACTOR = "readers"  # the history's actor of that hold
REPORTED = "comment.reported"
NOTES_SHOWN = 20  # notes per comment a moderator is shown


@dataclass(frozen=True)
class Reader:
    """Who reports, as stored: ``kind`` is ``commenter`` or ``ip``, ``key`` a hash."""

    kind: str
    key: str


def reader_for(secret: str, commenter_token: str | None, ip: str) -> Reader:
    """The reader of a request: the commenter key in a token Parley issued, else the IP.

    A token that Parley did not sign is ignored (the reader is then their IP), so nobody
    gets a new identity per report by making tokens up."""
    key_id = commenter.read(secret, commenter_token)
    if key_id:
        return Reader("commenter", commenter.author_key(key_id))
    mac = hmac.new(secret.encode(), f"parley.report-reader\x00{ip}".encode(), hashlib.sha256)
    return Reader("ip", mac.hexdigest())


@dataclass(frozen=True)
class Filed:
    """What became of a report: ``counted`` (202), ``repeat`` (200: this reader reported
    the comment before) or ``not_found`` (404: no such comment, or not published); ``held``
    when this report reached the threshold and held the comment."""

    outcome: Literal["counted", "repeat", "not_found"]
    held: bool = False


def _open(comment_id):
    return (CommentReport.comment_id == comment_id) & CommentReport.cleared_at.is_(None)


def open_counts(session: Session, comment_id: str) -> dict[str, int]:
    """Reports not cleared, by reason (in the order of their first report)."""
    rows = session.execute(
        select(CommentReport.reason, func.count(), func.min(CommentReport.id))
        .where(_open(comment_id))
        .group_by(CommentReport.reason)
        .order_by(func.min(CommentReport.id))
    ).all()
    return {reason: n for reason, n, _ in rows}


def reason_entry(counts: dict[str, int]) -> dict:
    """The ``reasons`` entry of a comment held by readers: the reasons given, counted."""
    total = sum(counts.values())
    given = ", ".join(f"{reason} {n}" for reason, n in counts.items())
    return {
        "rule": RULE,
        "score": 0.0,  # not a score: the readers' word, which holds it on its own
        "detail": f"{total} reader report{'s' if total != 1 else ''}: {given}",
        "reports": dict(counts),
        "count": total,
    }


def file_report(
    container: Container, comment_id: str, reader: Reader, reason: str, note: str | None
) -> Filed:
    """Record one reader's report of a published comment, and hold the comment if the
    reports not cleared reach the threshold (see the module's docstring)."""
    threshold = container.settings.report_threshold
    outbox = Outbox()
    held = False
    try:
        with session_scope(container.stores.moderation) as session:
            comment = session.scalar(
                select(Comment).where(Comment.id == comment_id).with_for_update()
            )
            if comment is None:
                return Filed("not_found")
            seen = session.scalar(
                select(CommentReport.id).where(
                    CommentReport.comment_id == comment_id, CommentReport.reader_key == reader.key
                )
            )
            if seen is not None:
                return Filed("repeat")
            if comment.status != "published":
                return Filed("not_found")
            now = utcnow()
            session.execute(
                insert(CommentReport).values(
                    comment_id=comment_id,
                    reader_kind=reader.kind,
                    reader_key=reader.key,
                    reason=reason,
                    note=note,
                    created_at=now,
                )
            )
            outbox.events.append(events.new_event(REPORTED, comment_id, comment.article_slug, now))
            outbox.write(session)
            counts = open_counts(session, comment_id)
            if sum(counts.values()) >= threshold:
                held = _hold(session, comment, counts, outbox)
                if held and container.stores.shared_database:
                    # One database: the public row leaves with the hold, or neither happens.
                    session.execute(
                        delete(PublishedComment).where(PublishedComment.id == comment_id)
                    )
    except IntegrityError:
        # The same reader at the same moment on another connection (the row lock makes
        # this rare): the constraint kept one; this one counts nothing.
        return Filed("repeat")
    outbox.relay(container)
    REPORTS.labels(reason=reason).inc()
    if held and not container.stores.shared_database:
        # Two databases: as after a moderator's unpublish (a crash here leaves the public
        # row until the comment is decided again; the unpublish task retries on errors).
        _unpublish(container, comment_id)
    if held:
        log.info("comment held by reader reports", extra={"comment_id": comment_id})
    return Filed("counted", held)


def _hold(session: Session, comment: Comment, counts: dict[str, int], outbox: Outbox) -> bool:
    """The ``published → held`` move with the readers' reason, in the report's unit of work."""
    entry = reason_entry(counts)
    reasons = [
        r for r in (comment.reasons or []) if not (isinstance(r, dict) and r.get("rule") == RULE)
    ]
    return transition(
        session,
        comment,
        system_move(comment.status, "held"),
        actor=ACTOR,
        action=RULE,
        note=entry["detail"],
        outbox=outbox,
        reasons=[*reasons, entry],
    )


def _unpublish(container: Container, comment_id: str) -> None:
    """Out of the article store, as after a moderator's unpublish (actions.moderate)."""
    try:
        unpublish_comment(container, comment_id)
    except Exception:  # the article store is down: a worker retries
        log.exception("unpublish failed; queued", extra={"comment_id": comment_id})
        container.queue.send(taskqueue.UNPUBLISH, comment_id)


def clear(session: Session, comment_id: str, actor: str, at: datetime | None = None) -> int:
    """Mark a comment's open reports cleared (in the caller's unit of work): they stay,
    and no longer count. How many were cleared."""
    result = session.execute(
        update(CommentReport)
        .where(_open(comment_id))
        .values(cleared_at=at or utcnow(), cleared_by=actor[:254])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def dismiss(container: Container, comment_id: str, actor: str) -> int:
    """A moderator keeps a reported comment published: its reports are cleared, and the
    history says so. How many were cleared (0: none were open)."""
    with session_scope(container.stores.moderation) as session:
        now = utcnow()
        cleared = clear(session, comment_id, actor, now)
        if cleared:
            session.execute(
                insert(CommentHistory),
                history_row(
                    comment_id,
                    now,
                    actor,
                    "dismiss_reports",
                    None,
                    None,
                    f"{cleared} reader report{'s' if cleared != 1 else ''} dismissed",
                ),
            )
    return cleared


@dataclass
class Summary:
    """The open reports of one comment as a moderator sees them."""

    count: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)  # {"reason", "note", "at"}
    last_at: datetime | None = None
    cleared: int = 0

    def as_json(self) -> dict:
        return {
            "open": self.count,
            "cleared": self.cleared,
            "reasons": dict(self.reasons),
            "notes": [
                {"reason": n["reason"], "note": n["note"], "at": n["at"].isoformat()}
                for n in self.notes
            ],
        }


def summaries(session: Session, comment_ids: Collection[str]) -> dict[str, Summary]:
    """The reports of these comments (only those that have any), open ones by reason with
    their notes, newest first, and how many were cleared."""
    ids = list(dict.fromkeys(comment_ids))
    if not ids:
        return {}
    found: dict[str, Summary] = {}
    rows = session.execute(
        select(
            CommentReport.comment_id,
            CommentReport.reason,
            CommentReport.note,
            CommentReport.created_at,
            CommentReport.cleared_at,
        )
        .where(CommentReport.comment_id.in_(ids))
        .order_by(CommentReport.id.desc())
    ).all()
    for comment_id, reason, note, at, cleared_at in rows:
        summary = found.setdefault(comment_id, Summary())
        if cleared_at is not None:
            summary.cleared += 1
            continue
        summary.count += 1
        summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
        summary.last_at = summary.last_at or at
        if note and len(summary.notes) < NOTES_SHOWN:
            summary.notes.append({"reason": reason, "note": note, "at": at})
    return found


@dataclass(frozen=True)
class ReportedCard:
    comment: Comment
    reports: Summary


def reported_queue(session: Session, limit: int = 100) -> dict[str, list[ReportedCard]]:
    """The dashboard's Reported page: comments held by readers' reports, and published
    comments with open reports (below the threshold), most recently reported first."""
    latest = (
        select(CommentReport.comment_id, func.max(CommentReport.id).label("last"))
        .where(CommentReport.cleared_at.is_(None))
        .group_by(CommentReport.comment_id)
        .subquery()
    )
    comments = list(
        session.scalars(
            select(Comment)
            .join(latest, latest.c.comment_id == Comment.id)
            .where(Comment.status.in_(("held", "published")))
            .order_by(latest.c.last.desc())
            .limit(limit)
        )
    )
    found = summaries(session, [c.id for c in comments])
    queue: dict[str, list[ReportedCard]] = {"held": [], "published": []}
    for comment in comments:
        queue[comment.status].append(ReportedCard(comment, found.get(comment.id, Summary())))
    return queue


def reported_count(session: Session) -> int:
    """How many held or published comments have open reports (the navigation's count)."""
    return (
        session.scalar(
            select(func.count(func.distinct(CommentReport.comment_id)))
            .join(Comment, Comment.id == CommentReport.comment_id)
            .where(CommentReport.cleared_at.is_(None), Comment.status.in_(("held", "published")))
        )
        or 0
    )
