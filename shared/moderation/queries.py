"""Moderators' queue queries, shared by the admin JSON API and the dashboard."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from shared.articles import BadCursor, decode_cursor, encode_cursor
from shared.models import Comment, CommentReport
from shared.moderation.states import STATUSES

# What a moderator's queue never shows unless asked for by name (an erased comment is a
# tombstone, shared.privacy.erase: nothing to moderate).
HIDDEN = ("discarded", "erased")


class BadQuery(ValueError):
    """A filter or cursor that cannot be used; the message names the field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name} {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    article: str | None = None
    text: str | None = None
    author: str | None = None
    email: str | None = None
    ip: str | None = None
    content_hash: str | None = None
    # Only comments with readers' reports not cleared (shared.moderation.reports).
    reported: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status and self.status not in STATUSES:
            raise BadQuery("status", f"must be one of {', '.join(STATUSES)}")
        for name in _TEXT_FILTERS:
            value = getattr(self, name)
            if value and "\x00" in value:  # PostgreSQL refuses it: a 503, not the reader's 422
                raise BadQuery(_PARAMETER.get(name, name), "must not contain NUL")


# The filters that are text, and the query-string names of those not named as their field.
_TEXT_FILTERS = ("article", "text", "author", "email", "ip", "content_hash")
_PARAMETER = {"text": "q", "content_hash": "hash"}


def parse_time(field_name: str, raw: str | None) -> datetime | None:
    """An ISO 8601 time from a query string, in UTC (a time without an offset is taken as
    UTC); None for nothing. Raises :class:`BadQuery` naming ``field_name`` for text that is
    not a time, or a time that UTC cannot hold (``0001-01-01T00:00+05:00`` parses, and
    then overflowed when bound: a 500)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadQuery(field_name, "must be an ISO 8601 time") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise BadQuery(field_name, "is out of range") from None


def _cursor(comment: Comment) -> str:
    return encode_cursor(comment.created_at, comment.id)


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        return decode_cursor(cursor)
    except BadCursor as exc:
        raise BadQuery("cursor", "is not valid") from exc


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(filters: Filters):
    """The WHERE clauses for ``filters``."""
    clauses = []
    if filters.status:
        clauses.append(Comment.status == filters.status)
    else:
        clauses.append(Comment.status.not_in(HIDDEN))
    if filters.article:
        clauses.append(Comment.article_slug == filters.article)
    if filters.text:
        clauses.append(func.lower(Comment.content).like(_like(filters.text.lower()), escape="\\"))
    if filters.author:
        clauses.append(
            func.lower(Comment.author_name).like(_like(filters.author.lower()), escape="\\")
        )
    if filters.email:
        clauses.append(func.lower(Comment.author_email) == filters.email.strip().lower())
    if filters.ip:
        clauses.append(Comment.user_ip == filters.ip.strip())
    if filters.content_hash:
        clauses.append(Comment.content_hash == filters.content_hash)
    if filters.reported:
        open_reports = select(CommentReport.comment_id).where(CommentReport.cleared_at.is_(None))
        clauses.append(Comment.id.in_(open_reports))
    return clauses


def page(
    session: Session,
    filters: Filters,
    limit: int = 50,
    cursor: str | None = None,
    with_history: bool = False,
    exclude_hashes: Collection[str] = (),
) -> tuple[list[Comment], str | None]:
    """One page of comments, newest first, keyset-paged on (created_at, id)."""
    if not 1 <= limit <= 200:
        raise BadQuery("limit", "must be between 1 and 200")
    query = select(Comment).where(*filtered(filters))
    if exclude_hashes:  # the dashboard shows spam waves on their own
        query = query.where(Comment.content_hash.not_in(list(exclude_hashes)))
    if cursor:
        at, id_ = _decode(cursor)
        query = query.where(tuple_(Comment.created_at, Comment.id) < (at, id_))
    if with_history:
        query = query.options(selectinload(Comment.history))
    rows = list(
        session.scalars(
            query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = _cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def counts_by_status(session: Session) -> dict[str, int]:
    """How many comments are in each status (every status listed, zeros included)."""
    counts = dict(
        session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all()
    )
    return {status: counts.get(status, 0) for status in STATUSES}


def ids_matching(session: Session, filters: Filters, limit: int = 5000) -> list[str]:
    """Ids of every comment matching ``filters`` (for "act on all matching")."""
    return list(
        session.scalars(
            select(Comment.id).where(*filtered(filters)).order_by(Comment.created_at).limit(limit)
        )
    )


def left_status(session: Session, ids: Collection[str], status: str) -> list[str]:
    """Those of ``ids`` that are no longer in ``status`` (decided since, or gone), in the
    order given."""
    if not ids:
        return []
    still = set(
        session.scalars(
            select(Comment.id).where(Comment.id.in_(list(ids)), Comment.status == status)
        )
    )
    return [comment_id for comment_id in ids if comment_id not in still]


# --- added for the dashboard ------------------------------------------------------------


def count_matching(session: Session, filters: Filters) -> int:
    """How many comments match ``filters`` (the "act on all N matching" figure)."""
    return session.scalar(select(func.count()).select_from(Comment).where(*filtered(filters))) or 0


def changed_since(
    session: Session,
    filters: Filters,
    since: datetime,
    exclude_hashes: Collection[str] = (),
    limit: int = 50,
) -> list[Comment]:
    """Comments matching ``filters`` whose status changed after ``since``, newest first: what
    a live queue adds to what it shows (a comment joins the held queue when it is decided,
    not when it is written)."""
    query = select(Comment).where(*filtered(filters), Comment.updated_at > since)
    if exclude_hashes:
        query = query.where(Comment.content_hash.not_in(list(exclude_hashes)))
    query = query.options(selectinload(Comment.history))
    return list(
        session.scalars(query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit))
    )


@dataclass(frozen=True)
class Wave:
    """Near-duplicates (same :func:`shared.textnorm.content_hash`) in one view: a spam wave."""

    content_hash: str
    count: int
    articles: int
    ips: int
    newest: Comment


def waves(session: Session, filters: Filters, min_size: int = 3, limit: int = 20) -> list[Wave]:
    """The biggest groups of near-identical comments matching ``filters``, largest first."""
    where = filtered(filters)
    groups = session.execute(
        select(
            Comment.content_hash,
            func.count(),
            func.count(func.distinct(Comment.article_slug)),
            func.count(func.distinct(Comment.user_ip)),
        )
        .where(*where)
        .group_by(Comment.content_hash)
        .having(func.count() >= min_size)
        .order_by(func.count().desc(), Comment.content_hash)
        .limit(limit)
    ).all()
    if not groups:
        return []
    # The newest member of each group stands for it.
    ranked = (
        select(
            Comment.id,
            func.row_number()
            .over(
                partition_by=Comment.content_hash,
                order_by=(Comment.created_at.desc(), Comment.id.desc()),
            )
            .label("n"),
        )
        .where(*where, Comment.content_hash.in_([g[0] for g in groups]))
        .subquery()
    )
    newest = {
        c.content_hash: c
        for c in session.scalars(
            select(Comment).join(ranked, ranked.c.id == Comment.id).where(ranked.c.n == 1)
        )
    }
    return [Wave(h, n, arts, ips, newest[h]) for h, n, arts, ips in groups if h in newest]


def similar_counts(session: Session, hashes: Collection[str], status: str | None) -> dict[str, int]:
    """How many comments share each text hash (within ``status`` if given)."""
    if not hashes:
        return {}
    query = select(Comment.content_hash, func.count()).where(
        Comment.content_hash.in_(list(set(hashes)))
    )
    if status:
        query = query.where(Comment.status == status)
    return dict(session.execute(query.group_by(Comment.content_hash)).all())


def author_records(session: Session, keys: Collection[str | None]) -> dict[str, tuple[int, int]]:
    """Per commenter key: (comments published, comments marked spam), in one query. The
    record the rules weigh (shared/moderation/context.py): the key's, never the e-mail
    address's, which anyone may type; a comment without a key has no record."""
    wanted = {key for key in keys if key}
    if not wanted:
        return {}
    rows = session.execute(
        select(Comment.author_key, Comment.status, func.count())
        .where(Comment.author_key.in_(wanted), Comment.status.in_(("published", "spam")))
        .group_by(Comment.author_key, Comment.status)
    ).all()
    records: dict[str, list[int]] = {}
    for key, status, n in rows:
        records.setdefault(key, [0, 0])[0 if status == "published" else 1] = n
    return {key: (rec[0], rec[1]) for key, rec in records.items()}
