"""What the dashboard's queues show and do, kept out of the views.

A queue page is one status (held by default) with the moderator's filters: spam waves
first, as one card each, then the other comments newest first, each with what a moderator
needs to decide (reasons, Akismet's verdict, the author's record, the history). Actions go
through :func:`shared.moderation.actions.moderate`, the admin JSON API's state machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shared.models import utcnow
from shared.moderation import actions, queries
from shared.moderation.queries import BadQuery, Filters, Wave
from shared.moderation.states import check_action

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)

QUEUES = ("held", "spam", "published", "rejected")
PAGE_SIZE = 50
WAVE_MIN_SIZE = 3  # two alike may be chance ("Thanks!"); three is a campaign
MAX_BULK = 500  # ids per bulk request: keeps one request well inside the HTTP timeout
MAX_MATCHING = 5000  # "all matching this filter" acts on at most this many
MAX_SHOWN = 500  # cards a live queue asks about per poll


@dataclass(frozen=True)
class Card:
    """One comment as a moderator sees it."""

    comment: object  # shared.models.Comment, with its history loaded
    approved: int  # the author's other comments published
    spam: int  # … and marked spam
    similar: int  # other comments with the same text in this queue


@dataclass
class QueueView:
    status: str
    filters: Filters
    cards: list[Card]
    waves: list[Wave]
    counts: dict[str, int]
    matching: int
    next_cursor: str | None
    since: datetime  # when the page was made: live updates add what changed after it
    grouped: bool = True


def build_cards(session: Session, comments: list, status: str | None) -> list[Card]:
    """Cards for ``comments`` with their authors' records and similar counts, in two queries."""
    records = queries.author_records(session, [c.author_key for c in comments])
    similar = queries.similar_counts(session, [c.content_hash for c in comments], status)
    cards = []
    for c in comments:
        approved, spam = records.get(c.author_key, (0, 0)) if c.author_key else (0, 0)
        # The author's record is about *other* comments (as the rules see it).
        approved -= c.status == "published"
        spam -= c.status == "spam"
        cards.append(Card(c, approved, spam, max(0, similar.get(c.content_hash, 1) - 1)))
    return cards


def wave_filters(filters: Filters) -> bool:
    """Whether waves are grouped in this view: not when the view already is one wave."""
    return not filters.content_hash


def queue_view(
    session: Session,
    filters: Filters,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    group: bool = True,
) -> QueueView:
    """One page of a queue. Raises :class:`queries.BadQuery` for a bad filter or cursor."""
    since = utcnow()  # before reading: a change during the reads is seen by the next poll
    group = group and wave_filters(filters)
    # Later pages leave out the same waves as the first page, which shows them.
    found_waves = queries.waves(session, filters, WAVE_MIN_SIZE) if group else []
    hashes = [w.content_hash for w in found_waves]
    comments, next_cursor = queries.page(
        session, filters, limit, cursor, with_history=True, exclude_hashes=hashes
    )
    view = QueueView(
        status=filters.status or "held",
        filters=filters,
        cards=build_cards(session, comments, filters.status),
        waves=found_waves if not cursor else [],
        counts=queries.counts_by_status(session),
        matching=queries.count_matching(session, filters),
        next_cursor=next_cursor,
        since=since,
        grouped=group,
    )
    return view


@dataclass
class LiveUpdate:
    """What a live queue adds since it last asked: new cards, and the waves as they are now."""

    cards: list[Card]
    waves: list[Wave]

    @property
    def signature(self) -> str:
        """A short fingerprint of the waves: the page redraws them only when it changes."""
        return ",".join(f"{w.content_hash[:12]}:{w.count}" for w in self.waves)


def live_update(
    session: Session, filters: Filters, since: datetime, group: bool = True
) -> LiveUpdate:
    """Comments that entered the view after ``since`` (waves' members left out: the waves
    show them), and the current waves."""
    found = (
        queries.waves(session, filters, WAVE_MIN_SIZE) if group and wave_filters(filters) else []
    )
    comments = queries.changed_since(
        session, filters, since, [w.content_hash for w in found], limit=PAGE_SIZE
    )
    return LiveUpdate(build_cards(session, comments, filters.status), found)


def shown_ids(raw: str | None) -> list[str]:
    """The comment ids a live queue shows, from its comma-separated list; raises
    :class:`BadQuery` for anything else."""
    ids = [part for part in (raw or "").split(",") if part]
    if len(ids) > MAX_SHOWN or not all(len(i) <= 32 and i.isalnum() and i.isascii() for i in ids):
        raise BadQuery("shown", f"must be at most {MAX_SHOWN} comment ids, separated by commas")
    return ids


def wave_signature(waves: list[Wave]) -> str:
    return LiveUpdate([], waves).signature


def matching_ids(session: Session, filters: Filters) -> list[str]:
    """Ids for "act on all matching this filter", oldest first, at most :data:`MAX_MATCHING`."""
    return queries.ids_matching(session, filters, MAX_MATCHING)


@dataclass
class BulkResult:
    done: dict[str, str] = field(default_factory=dict)  # id -> new status
    failed: dict[str, str] = field(default_factory=dict)  # id -> why
    feedback: int = 0  # Akismet corrections queued

    def as_json(self) -> dict:
        return {
            "done": len(self.done),
            "statuses": self.done,
            "failed": self.failed,
            "feedback": self.feedback,
        }


def bulk_moderate(container: Container, ids: list[str], action: str, actor: str) -> BulkResult:
    """Apply one action to many comments, each through the state machine on its own.

    A comment that cannot move (already decided by someone else, or not in a status the
    action applies to) is reported in ``failed`` with the state machine's sentence; the
    others are still done.
    """
    check_action(action)
    result = BulkResult()
    for comment_id in dict.fromkeys(ids):
        try:
            outcome = actions.moderate(container, comment_id, action, actor)
        except actions.CommentNotFound:
            result.failed[comment_id] = "there is no such comment"
        except actions.IllegalTransition as exc:
            result.failed[comment_id] = str(exc)
        else:
            result.done[comment_id] = outcome.comment.status
            result.feedback += outcome.feedback is not None
    log.info(
        "bulk moderator action",
        extra={
            "action": action,
            "actor": actor,
            "done": len(result.done),
            "failed": len(result.failed),
        },
    )
    return result
