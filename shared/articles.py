"""Articles and the public read side of the article store."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, func, select, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shared.models import Article, PublishedComment, utcnow
from shared.timefmt import iso
from shared.validation import is_http_url

DEMO_SLUG = "russia-ukraine-prisoner-exchange"
DEMO_ARTICLE = {
    "title": "Russia-Ukraine Prisoner Exchange: Peace Talks Breakthrough",
    "url": "http://127.0.0.1:8000/articles/" + DEMO_SLUG,
    "summary": (
        "Delegations from Russia and Ukraine met in Istanbul for their first direct talks in "
        "more than three years. The meeting, hosted by Turkey at the Dolmabahçe Palace, was "
        "short and produced no ceasefire, but both sides agreed to the largest prisoner "
        "exchange of the war: a thousand prisoners each. The swap was carried out in stages "
        "over the following days at the Belarusian border. Negotiators also agreed to set out "
        "their conditions for a future ceasefire in writing and to keep talking, and Turkey "
        "offered to host the next round."
    ),
    "comments_open": True,
}


# An article's moderation mode (docs/contract.md §4): auto (the checks decide),
# premoderate (what the checks would publish is held for a moderator), closed (no new
# comments: the same as comments_open false, and always stored together with it).
MODERATION_MODES = ("auto", "premoderate", "closed")


def validate_article(data: dict) -> tuple[dict, dict[str, list[str]]]:
    """Check an article body of ``PUT /api/v1/admin/articles/{slug}``.

    ``moderation`` and ``comments_open`` are one setting seen two ways: ``closed`` closes
    comments, and ``comments_open: false`` alone means ``closed``; both given and
    disagreeing is a field error. Without ``moderation`` the fields carry None for it and
    :func:`upsert_article` derives it (keeping an article's pre-moderation).
    """
    errors: dict[str, list[str]] = {}
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = ["is required"]
    elif len(title.strip()) > 500:
        errors["title"] = ["must be at most 500 characters"]
    url = data.get("url")
    if not isinstance(url, str) or not is_http_url(url.strip()):
        errors["url"] = ["must be an http:// or https:// URL"]
    elif len(url) > 2048:
        errors["url"] = ["must be at most 2,048 characters"]
    comments_open = data.get("comments_open", True)
    if not isinstance(comments_open, bool):
        errors["comments_open"] = ["must be true or false"]
    moderation = data.get("moderation")
    if moderation is not None and (
        not isinstance(moderation, str) or moderation not in MODERATION_MODES
    ):
        errors["moderation"] = [f"must be one of {', '.join(MODERATION_MODES)}"]
    elif moderation is not None and "comments_open" in data and "comments_open" not in errors:
        if (moderation == "closed") == comments_open:
            errors["moderation"] = [
                "is 'closed' exactly when comments_open is false; send one of the two"
            ]
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        errors["summary"] = ["must be a string"]
    if errors:
        return {}, errors
    if moderation is not None:
        comments_open = moderation != "closed"
    return {
        "title": title.strip(),
        "url": url.strip(),
        "comments_open": comments_open,
        "moderation": moderation,
        "summary": summary.strip(),
    }, {}


def moderation_for(comments_open: bool, stored: str | None) -> str:
    """The mode of an article whose update did not name one: ``closed`` if comments are
    closed, else the stored mode unless that was ``closed`` (so an update that sends only
    the title, as a CMS does on every edit, does not lift an editor's pre-moderation)."""
    if not comments_open:
        return "closed"
    return stored if stored in ("auto", "premoderate") else "auto"


def valid_slug(slug: str) -> bool:
    return 0 < len(slug) <= 200 and all(ch.isalnum() or ch in "-_." for ch in slug)


def upsert_article(session: Session, slug: str, fields: dict) -> tuple[Article, bool]:
    """Create or update an article; returns ``(article, created)``.

    ``fields`` may set ``moderation`` (then ``comments_open`` follows it) or leave it out
    or None (then it follows ``comments_open``: see :func:`moderation_for`).
    """
    article = session.get(Article, slug)
    created = article is None
    stored = None if created else article.moderation
    if created:
        article = Article(slug=slug, created_at=utcnow())
        session.add(article)
    fields = dict(fields)
    mode = fields.pop("moderation", None)
    for key, value in fields.items():
        setattr(article, key, value)
    if mode is None:
        mode = moderation_for(article.comments_open is not False, stored)
    set_moderation(article, mode)
    article.updated_at = utcnow()
    return article, created


def set_moderation(article: Article, mode: str) -> None:
    """Put ``article`` in ``mode``, with ``comments_open`` to match."""
    if mode not in MODERATION_MODES:
        raise ValueError(f"moderation must be one of {', '.join(MODERATION_MODES)}")
    article.moderation = mode
    article.comments_open = mode != "closed"


# The intake writer asks this once per article and batch, from a thread that shares its
# process with request threads (and the request path asks it for a refused submission).
# It runs as one statement on a pooled DBAPI connection: a Session (or even a Core
# connection with its BEGIN and ROLLBACK) costs several times the query itself, and on
# SQLite it is three more calls that release the GIL, each of which that thread may wait
# a switch interval to get back.
_INTAKE_LOOKUP = select(Article.url, Article.comments_open).where(Article.slug == bindparam("slug"))
_intake_sql: dict[object, tuple[str, tuple[str, ...] | None]] = {}


def intake_article(engine: Engine, slug: str) -> tuple[str, bool] | None:
    """``(url, comments_open)`` of article ``slug``, or None if there is no such article."""
    compiled = _intake_sql.get(engine.dialect)
    if compiled is None:
        statement = _INTAKE_LOOKUP.compile(dialect=engine.dialect)
        positions = tuple(statement.positiontup) if engine.dialect.positional else None
        compiled = _intake_sql[engine.dialect] = (str(statement), positions)
    sql, positions = compiled
    params = {"slug": slug}
    args = tuple(params[name] for name in positions) if positions else params
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, args)
            row = cursor.fetchone()
            cursor.close()
            connection.commit()  # end the read (a no-op outside a transaction)
        finally:
            connection.close()
    except engine.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy would raise it (OperationalError → the API's 503).
        raise DBAPIError.instance(sql, args, exc, engine.dialect.loaded_dbapi.Error) from exc
    return (row[0], bool(row[1])) if row else None


def comment_count(session: Session, slug: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(PublishedComment)
            .where(PublishedComment.article_slug == slug)
        )
        or 0
    )


def article_json(article: Article, count: int) -> dict:
    return {
        "slug": article.slug,
        "title": article.title,
        "url": article.url,
        "comments_open": article.comments_open,
        "comment_count": count,
    }


def admin_article_json(article: Article, count: int) -> dict:
    """An article as the admin API shows it: the public fields, its moderation mode and
    its dates."""
    return {
        **article_json(article, count),
        "moderation": article.moderation,
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
    }


_MODES = select(Article.slug, Article.moderation).where(
    Article.slug.in_(bindparam("m_slugs", expanding=True))
)


def moderation_modes(session: Session, slugs: Iterable[str]) -> dict[str, str]:
    """The moderation mode of each of ``slugs`` that is an article (one query)."""
    slugs = sorted(set(slugs))
    if not slugs:
        return {}
    rows = session.connection().execute(_MODES, {"m_slugs": slugs})  # Core: no entities
    return dict(rows.all())


def published_json(row: PublishedComment) -> dict:
    return {
        "id": row.id,
        "parent_id": row.parent_id,
        "author_name": row.author_name,
        "author_url": row.author_url,
        "content": row.content,
        "published_at": iso(row.published_at, precise=True),
    }


class BadCursor(ValueError):
    pass


# A cursor's id is a comment id (32 hex digits today); anything longer is not one.
_CURSOR_ID_MAX = 64


def encode_cursor(published_at: datetime, id_: str) -> str:
    raw = f"{published_at.isoformat()}|{id_}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(time, id)`` of a cursor from :func:`encode_cursor`; :class:`BadCursor` for
    anything a page could not have written.

    The time must carry its offset and be a time in UTC that Python can hold (a cursor is
    compared with UTC times: ``0001-01-01T00:00+01:00`` parsed, and then overflowed in the
    store's bind, a 500), and the id must be printable (PostgreSQL refuses NUL in text).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, id_ = raw.split("|", 1)
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError("a cursor's time carries its offset")
        at = at.astimezone(UTC)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor("cursor is not valid") from exc
    if not id_ or len(id_) > _CURSOR_ID_MAX or not id_.isprintable():
        raise BadCursor("cursor is not valid")
    return at, id_


@dataclass(frozen=True)
class Page:
    comments: list[PublishedComment]
    next_cursor: str | None


# A newest-first page's cursor starts with this (not a base64url character), so that a
# cursor is only ever taken back in the order that wrote it.
NEWEST_MARK = "~"


def published_page(
    session: Session, slug: str, limit: int, cursor: str | None, newest: bool = False
) -> Page:
    """Published comments of ``slug``, oldest first (``newest``: newest first), keyset-paged;
    :class:`BadCursor` for a cursor the other order, or no page, wrote."""
    query = select(PublishedComment).where(PublishedComment.article_slug == slug)
    key = tuple_(PublishedComment.published_at, PublishedComment.id)
    if cursor:
        if cursor.startswith(NEWEST_MARK) != newest:
            raise BadCursor(cursor)
        at, id_ = decode_cursor(cursor.removeprefix(NEWEST_MARK))
        query = query.where(key < (at, id_) if newest else key > (at, id_))
    order = (
        (PublishedComment.published_at.desc(), PublishedComment.id.desc())
        if newest
        else (PublishedComment.published_at, PublishedComment.id)
    )
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(rows[limit - 1].published_at, rows[limit - 1].id)
        if newest:
            next_cursor = NEWEST_MARK + next_cursor
    return Page(rows[:limit], next_cursor)


def article_page(
    session: Session,
    limit: int,
    cursor: str | None = None,
    *,
    moderation: str | None = None,
    text: str | None = None,
) -> tuple[list[tuple[Article, int]], str | None]:
    """Articles newest first with their published comment counts, keyset-paged (the
    cursor of :func:`encode_cursor` on creation time and slug); ``moderation`` keeps one
    mode, ``text`` those whose slug or title holds it. :class:`BadCursor` for a cursor
    this did not write."""
    counts = (
        select(PublishedComment.article_slug, func.count().label("n"))
        .group_by(PublishedComment.article_slug)
        .subquery()
    )
    query = select(Article, func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.article_slug == Article.slug
    )
    if moderation:
        query = query.where(Article.moderation == moderation)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            Article.slug.ilike(pattern, escape="\\") | Article.title.ilike(pattern, escape="\\")
        )
    if cursor:
        at, slug = decode_cursor(cursor)
        query = query.where(tuple_(Article.created_at, Article.slug) < (at, slug))
    rows = session.execute(
        query.order_by(Article.created_at.desc(), Article.slug.desc()).limit(limit + 1)
    ).all()
    page = [(article, int(count)) for article, count in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return page, encode_cursor(last.created_at, last.slug) if last is not None else None


def create_article_if_absent(engine: Engine, slug: str, fields: dict) -> bool:
    """Insert article ``slug`` with ``fields`` (``title``, ``url``; optionally
    ``summary``, ``comments_open``, ``moderation``) unless it exists; True if this call
    created it. One statement (INSERT ... ON CONFLICT DO NOTHING): concurrent callers
    create one article, and none of them fails."""
    now = utcnow()
    moderation = fields.get("moderation") or (
        "auto" if fields.get("comments_open", True) else "closed"
    )
    values = {
        "slug": slug,
        "title": fields["title"],
        "url": fields["url"],
        "summary": fields.get("summary", ""),
        "comments_open": moderation != "closed",
        "moderation": moderation,
        "created_at": now,
        "updated_at": now,
    }
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = (
        dialect_insert(Article).values(values).on_conflict_do_nothing(index_elements=["slug"])
    )
    with engine.begin() as conn:
        return conn.execute(statement).rowcount == 1


def slug_for_url(session: Session, url: str) -> str | None:
    """The slug of an article whose URL is ``url``, if there is one."""
    return session.scalar(select(Article.slug).where(Article.url == url).limit(1))
