"""The activity log: moderators' decisions on comments and admins' changes, in one timeline.

Decisions come from the comments' own history (the state machine writes it), changes from
the audit log; nothing is recorded twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.accounts import AuditLog
from shared.models import Comment, CommentHistory
from shared.moderation.states import MODERATOR_ACTIONS

# "erase": a comment erased at its author's request (shared.privacy.erase).
COMMENT_ACTIONS = (*MODERATOR_ACTIONS, "erase")
AUDIT_ACTIONS = (
    "list.add",
    "list.remove",
    "setting.set",
    "list.mode",
    "rule.set",
    "article.moderation",
    "author.export",
    "author.erase",
    "moderator.create",
    "moderator.update",
    "moderator.password",
    "login",
    "logout",
)


class BadFilter(ValueError):
    pass


@dataclass(frozen=True)
class Activity:
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: str
    comment_id: str | None = None
    article: str | None = None


@dataclass(frozen=True)
class ActivityFilters:
    actor: str | None = None
    action: str | None = None
    day_from: date | None = None
    day_to: date | None = None

    @classmethod
    def parse(cls, actor: str | None, action: str | None, day_from: str | None, day_to: str | None):
        """From query-string values; raises :class:`BadFilter` naming the bad one."""
        if action and action not in COMMENT_ACTIONS + AUDIT_ACTIONS:
            raise BadFilter(f"action must be one of {', '.join(COMMENT_ACTIONS + AUDIT_ACTIONS)}")
        days = []
        for name, raw in (("from", day_from), ("to", day_to)):
            try:
                day = date.fromisoformat(raw) if raw else None
            except ValueError:
                raise BadFilter(f"{name} must be a date like 2026-01-31") from None
            if day == date.max:  # "to" ends at the next midnight, which Python cannot hold
                raise BadFilter(f"{name} must be a date before {date.max.isoformat()}")
            days.append(day)
        return cls((actor or "").strip().lower() or None, action or None, *days)


def parse_before(raw: str | None) -> datetime | None:
    """The ``before`` of the next page, from the query string: a time in UTC (one without
    an offset is taken as UTC), or None. Raises :class:`BadFilter` for text that is not a
    time or a time UTC cannot hold (it overflowed when bound: a 500)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadFilter("before must be an ISO 8601 time") from None


def _describe(detail: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in (detail or {}).items())


def _bounds(filters: ActivityFilters, before: datetime | None) -> list[tuple]:
    bounds = []
    if filters.day_from:
        bounds.append((">=", datetime.combine(filters.day_from, time(), UTC)))
    if filters.day_to:
        bounds.append(("<", datetime.combine(filters.day_to + timedelta(days=1), time(), UTC)))
    if before:
        bounds.append(("<", before))
    return bounds


def _apply(query, column, bounds):
    for op, value in bounds:
        query = query.where(column >= value if op == ">=" else column < value)
    return query


def activity(
    session: Session, filters: ActivityFilters, before: datetime | None = None, limit: int = 100
) -> tuple[list[Activity], datetime | None]:
    """Newest first; returns the page and the ``before`` value of the next page (or None)."""
    bounds = _bounds(filters, before)
    items: list[Activity] = []
    if filters.action is None or filters.action in COMMENT_ACTIONS:
        query = (
            select(CommentHistory, Comment.article_slug, Comment.author_name)
            .join(Comment, Comment.id == CommentHistory.comment_id)
            .where(
                CommentHistory.action.in_([filters.action] if filters.action else COMMENT_ACTIONS)
            )
        )
        if filters.actor:
            query = query.where(func.lower(CommentHistory.actor) == filters.actor)
        query = (
            _apply(query, CommentHistory.at, bounds)
            .order_by(CommentHistory.at.desc())
            .limit(limit + 1)
        )
        for h, article, author in session.execute(query):
            moved = f"{h.from_status} → {h.to_status}"
            items.append(
                Activity(
                    h.at,
                    h.actor,
                    h.action,
                    f"comment by {author}",
                    moved + (f" — {h.note}" if h.note else ""),
                    h.comment_id,
                    article,
                )
            )
    if filters.action is None or filters.action in AUDIT_ACTIONS:
        query = select(AuditLog)
        if filters.action:
            query = query.where(AuditLog.action == filters.action)
        if filters.actor:
            query = query.where(func.lower(AuditLog.actor) == filters.actor)
        query = _apply(query, AuditLog.at, bounds).order_by(AuditLog.at.desc()).limit(limit + 1)
        for entry in session.scalars(query):
            items.append(
                Activity(entry.at, entry.actor, entry.action, entry.target, _describe(entry.detail))
            )
    items.sort(key=lambda a: a.at, reverse=True)
    more = len(items) > limit
    items = items[:limit]
    return items, (items[-1].at if more and items else None)


def actors(session: Session) -> list[str]:
    """Everyone who appears in the log, for the filter's choices."""
    names = set(session.scalars(select(AuditLog.actor).distinct()))
    names |= set(
        session.scalars(
            select(CommentHistory.actor)
            .where(CommentHistory.action.in_(COMMENT_ACTIONS))
            .distinct()
        )
    )
    return sorted(names)
