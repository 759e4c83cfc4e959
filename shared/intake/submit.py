"""Accepting a comment: validate, store durably, then hand off to the workers.

The order is the product's promise: the row is committed before anything is queued or
answered, and a queue that cannot be reached costs nothing but latency (the sweeper queues
what was left ``received``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from shared import commenter, formtoken, taskqueue, textnorm
from shared.articles import intake_article
from shared.events import event_fields
from shared.intake import pressure, protocol
from shared.intake.protocol import Duplicate
from shared.models import Comment, PublishedComment, new_id
from shared.ops.metrics import COMMENTS_SUBMITTED
from shared.validation import validate_comment

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)


class IntakeError(Exception):
    """A submission refused for a reason the submitter can act on."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class ArticleNotFound(IntakeError):
    status, title = 404, "Unknown article"


class CommentsClosed(IntakeError):
    status, title = 403, "Comments are closed"


class DuplicateComment(IntakeError):
    status, title = 409, "Duplicate comment"


class InvalidFields(IntakeError):
    status, title = 422, "Invalid fields"


class IdempotencyConflict(IntakeError):
    """An ``Idempotency-Key`` already used for another request: another article or other
    fields (the IETF idempotency-key draft's 422; docs/contract.md §3)."""

    status, title = 422, "Idempotency-Key reused"


@dataclass(frozen=True)
class RequestMeta:
    """What the HTTP request tells about the submitter (Akismet wants all of it)."""

    user_ip: str
    user_agent: str | None = None
    referrer: str | None = None
    accept_language: str | None = None
    idempotency_key: str | None = None
    request_id: str | None = None
    # The reader's commenter token from a header or the form's cookie (the body's
    # ``commenter_token`` field comes first), and whether the body was an HTML form's.
    commenter_token: str | None = None
    from_form: bool = False


@dataclass(frozen=True)
class Accepted:
    id: str
    article: str
    replayed: bool = False
    commenter_token: str | None = None  # the key the comment adds to, for the answer


# The longest ``Idempotency-Key`` taken; a longer one is refused, never cut to fit.
MAX_KEY = 255
KEY_FIELD = "Idempotency-Key"


def key_digest(idempotency_key: str) -> str:
    """What the store keeps of a key: the SHA-256 of all of it (hex). A key is compared
    whole, whatever its length and characters, and is not kept as the client wrote it."""
    return hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()


def _check_key(idempotency_key: str) -> None:
    if len(idempotency_key) > MAX_KEY:
        raise InvalidFields(
            f"{KEY_FIELD} must be at most {MAX_KEY} characters.",
            {KEY_FIELD: [f"must be at most {MAX_KEY} characters"]},
        )


# What makes two requests the same comment: the article and every stored field.
_SAME_REQUEST = (
    Comment.article_slug,
    Comment.author_name,
    Comment.author_email,
    Comment.author_url,
    Comment.content,
    Comment.parent_id,
    Comment.honeypot,
)


def _key_id(secret: str, presented: str | None, comment_id: str) -> str:
    """The commenter key a comment adds to: the one the reader sent, else a new one."""
    return commenter.read(secret, presented) or commenter.key_id_for(secret, comment_id)


def find_replay(
    container: Container,
    idempotency_key: str | None,
    slug: str,
    data: dict,
    presented: str | None = None,
) -> Accepted | None:
    """The first answer for a retried ``Idempotency-Key``, if there was one.

    A retry is the same request: the same article and, once validated and normalised,
    the same fields (the form and commenter tokens aside: a retry may fetch a new form
    token). A key that was used for anything else raises :class:`IdempotencyConflict`, and
    a key over :data:`MAX_KEY` characters :class:`InvalidFields`. The answer's commenter
    token is the first answer's: the key the request sends (a ``commenter_token`` field,
    or ``presented`` from a header or cookie), or the one the comment started, and never a
    key that is not the comment's.
    """
    if not idempotency_key:
        return None
    _check_key(idempotency_key)
    with container.stores.moderation_read() as session:
        row = session.execute(
            select(Comment.id, Comment.author_key, *_SAME_REQUEST).where(
                Comment.idempotency_key == key_digest(idempotency_key)
            )
        ).first()
    if row is None:
        return None
    clean, errors = validate_comment(data)
    same = not errors and tuple(row[2:]) == (
        slug,
        clean.author_name,
        clean.author_email,
        clean.author_url,
        clean.content,
        clean.parent_id,
        clean.honeypot,
    )
    if not same:
        raise IdempotencyConflict(
            f"This {KEY_FIELD} was used for another comment; a retry must send the same "
            "comment to the same article, and a new comment needs a new key.",
            {KEY_FIELD: ["was used for another request"]},
        )
    secret = container.settings.secret_key
    key_id = _key_id(secret, clean.commenter_token or presented, row.id)
    holds = commenter.author_key(key_id) == row.author_key
    token = commenter.issue(secret, key_id) if holds else None
    return Accepted(row.id, row.article_slug, replayed=True, commenter_token=token)


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def hand_off(container: Container, rows: list[dict]) -> None:
    """After a batch commits: one check task for the batch and its events, in one Redis
    round trip, and one log line. If Redis cannot be reached, the rows stay ``received``
    and are flagged ``unannounced``: the sweeper writes their events and queues them."""
    ids = [row["id"] for row in rows]
    log.info(
        "comments received",
        extra={
            "comment_ids": ids,
            "request_ids": [row["request_id"] for row in rows],
            "articles": sorted({row["article_slug"] for row in rows}),
        },
    )
    at = rows[0]["created_at"]  # one timestamp per batch
    events = [event_fields("comment.received", row["id"], row["article_slug"], at) for row in rows]
    try:
        pipe = container.redis.pipeline(transaction=False)
        container.queue.push(pipe, taskqueue.CHECK_MANY, ids)
        container.events.add(pipe, events)
        pressure.mark(pipe, len(ids))
        pipe.execute()
    except Exception as exc:  # redis down: ConnectionError, TimeoutError, …
        log.warning(
            "hand-off failed; the sweeper will write the events and queue these",
            extra={"comment_ids": ids, "error": str(exc)},
        )
        _flag_unannounced(container, ids)


def _flag_unannounced(container: Container, ids: list[str]) -> None:
    """Leave a mark for the sweeper on comments whose hand-off failed (see
    ``Comment.unannounced``). Only this failure path writes it: a hand-off that succeeds
    costs the store nothing more."""
    try:
        with container.stores.moderation_engine.begin() as conn:
            conn.execute(update(Comment).where(Comment.id.in_(ids)).values(unannounced=True))
    except DBAPIError as exc:
        # The rows are stored and the sweeper still queues them after the lease; only
        # their comment.received events are lost.
        log.error(
            "could not flag comments whose hand-off failed; their comment.received events are lost",
            extra={"comment_ids": ids, "error": str(exc)[:300]},
        )


def _no_article(slug: str) -> ArticleNotFound:
    return ArticleNotFound(f"There is no article {slug!r}.")


def _closed(slug: str) -> CommentsClosed:
    return CommentsClosed(f"Comments on {slug!r} are closed.")


def _check_article(container: Container, slug: str, data: dict) -> None:
    article = intake_article(container.stores.articles_read_engine, slug)
    if article is None:
        article_url = data.get("article_url")
        if isinstance(article_url, str) and container.settings.site_origins:
            if container.site_registrar.applies(slug, article_url.strip()) is None:
                return  # the field errors first: a valid comment may register the article
        raise _no_article(slug)
    if not article[1]:
        raise _closed(slug)


def _insert(container: Container, row: dict, slug: str, clean, meta: RequestMeta) -> None:
    """Hand the row to the writer. A comment on an unknown slug may register its article
    from its page (shared.sites.register, only with PARLEY_SITE_ORIGINS set), then goes
    to the writer once more: only this path ever waits for a page, never a comment on a
    known article."""
    try:
        container.committer.insert(row)
        return
    except protocol.NoSuchArticle:
        if not (container.settings.site_origins and clean.article_url):
            raise _no_article(slug) from None
    from shared.sites.register import NotRegistered

    try:
        container.site_registrar.register(
            container, slug, clean.article_url, clean.article_title, meta.user_ip
        )
    except NotRegistered as exc:
        detail = f"There is no article {slug!r}, and it was not registered: {exc}."
        raise ArticleNotFound(detail) from None
    try:
        container.committer.insert(row)
    except protocol.NoSuchArticle:
        raise _no_article(slug) from None


def submit_comment(
    container: Container, slug: str, data: dict, meta: RequestMeta, *, replay_checked=False
) -> Accepted:
    """Validate and durably store one comment, then queue its check.

    Raises an :class:`IntakeError` subclass for anything the submitter must fix. Database
    errors propagate (the API answers 503); queue errors do not. ``replay_checked`` says
    the caller already looked the ``Idempotency-Key`` up and found no first answer.
    """
    if meta.idempotency_key:
        _check_key(meta.idempotency_key)
    replay = (
        None
        if replay_checked
        else find_replay(container, meta.idempotency_key, slug, data, meta.commenter_token)
    )
    if replay:
        return replay

    clean, errors = validate_comment(data)
    if errors or clean.parent_id:
        # An unknown or closed article is the answer before any field error. A valid
        # submission learns it from the writer, which checks each article once per batch.
        _check_article(container, slug, data)
    if clean and clean.parent_id:
        with container.stores.articles_read() as session:
            parent = session.execute(
                select(PublishedComment.article_slug).where(PublishedComment.id == clean.parent_id)
            ).scalar()
        if parent != slug:
            errors = {"parent_id": ["must be a published comment of this article"]}
    if errors:
        raise InvalidFields("Some fields are not valid; see errors.", errors)

    settings = container.settings
    comment_id = new_id()
    fingerprint = textnorm.fingerprint(clean.author_email, clean.content)
    token_status, token_age = formtoken.check(settings.secret_key, slug, clean.form_token)
    if token_status == "valid":
        token_status = formtoken.claim(container.redis, clean.form_token, token_age, fingerprint)
    elif token_status == "missing" and meta.from_form:
        token_status = "form_missing"  # the article page's form always sends one
    key_id = _key_id(settings.secret_key, clean.commenter_token or meta.commenter_token, comment_id)
    row = dict(
        id=comment_id,
        article_slug=slug,
        article_permalink=None,  # the writer sets it from the article
        parent_id=clean.parent_id,
        author_name=clean.author_name,
        author_email=clean.author_email,
        author_url=clean.author_url,
        content=clean.content,
        user_ip=meta.user_ip,
        user_agent=_clip(meta.user_agent, 1024),
        referrer=_clip(meta.referrer, 2048),
        accept_language=_clip(meta.accept_language, 256),
        honeypot=clean.honeypot,
        form_token_status=token_status,
        form_token_age=token_age,
        author_key=commenter.author_key(key_id),
        author_verified=commenter.author_verified(
            settings.author_token_secret, clean.author_token, clean.author_email
        ),
        notify=clean.notify,
        fingerprint=fingerprint,
        content_hash=textnorm.content_hash(clean.content),
        idempotency_key=key_digest(meta.idempotency_key) if meta.idempotency_key else None,
        request_id=meta.request_id,
        status="received",
        attempts=0,
        publication=0,
        reasons=[],
        akismet={},
    )
    try:
        _insert(container, row, slug, clean, meta)
    except protocol.CommentsClosed:
        raise _closed(slug) from None
    except Duplicate:
        # Lost a race with an identical submission (or with another use of its key):
        # tell which one.
        replay = find_replay(container, meta.idempotency_key, slug, data, meta.commenter_token)
        if replay:
            return replay
        raise DuplicateComment(
            "You already posted this comment on this article; it is awaiting moderation or published."
        ) from None
    COMMENTS_SUBMITTED.inc()
    return Accepted(comment_id, slug, commenter_token=commenter.issue(settings.secret_key, key_id))
