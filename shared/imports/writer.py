"""Storing parsed records in both stores, a batch at a time (docs/contract.md §8).

Each batch is written in one transaction when both stores share a database; with two
databases, the article store's part (new articles and the published comments' public
rows) commits first and the moderation store's part (comments, their history, the
import ledger, classifier examples, events) second, as the publisher does: a crash in
between leaves public rows whose comments the next run stores, and the public inserts do
nothing the second time (keyed by comment id). Either way a rerun is safe and completes
the import exactly:

- a comment's id is a keyed hash of its source and its id in the export
  (:meth:`Writer.comment_id`), so it is the same on every run and a reply knows its
  parent's id before the parent is read;
- ``imported_comments`` says what is stored; a comment found there is a duplicate.

Nothing goes to Akismet, the intake or its metrics: imported comments are stored as
decided. A published one gets one ``comment.published`` event (what a search index or a
cache in front of the pages needs to know); held, spam and rejected ones change nothing
the public sees and get none, so no consumer takes years of history for new decisions.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from shared import events, textnorm
from shared.classifier.store import imported_example
from shared.imports.inserts import insert_ignoring, insert_rows
from shared.imports.records import ArticleRecord, CommentRecord
from shared.models import (
    Article,
    Comment,
    CommentHistory,
    ImportedComment,
    ImportSource,
    PublishedComment,
    history_row,
    utcnow,
)
from shared.models.moderation_store import EventOutbox, TrainingExample
from shared.privacy import retention

if TYPE_CHECKING:
    from shared.bootstrap import Container

AKISMET = {"verdict": "skipped", "reason": "imported"}
CHUNK = 500


@dataclass
class Summary:
    """What an import did, for its report."""

    articles_created: int = 0
    articles_existing: int = 0
    titles_kept: int = 0  # existing articles whose title differs (theirs is kept)
    titles_kept_slugs: list[str] = field(default_factory=list)  # the first few
    comments: Counter = field(default_factory=Counter)  # stored now, by status
    duplicates: int = 0  # stored by an earlier run (or twice in the file)
    skipped: Counter = field(default_factory=Counter)  # by reason
    orphans: int = 0  # replies whose parent is not stored: shown at the top level
    examples: int = 0
    events: int = 0
    events_relayed: int = 0


def source_name(format_: str, site: str) -> str:
    """``wordpress:<site>`` / ``disqus:<forum>``; a hash when that is over 255 characters."""
    name = f"{format_}:{site}"
    return (
        name
        if len(name) <= 255
        else f"{format_}:sha256:{hashlib.sha256(site.encode()).hexdigest()}"
    )


def _source_key(source_id: str) -> str:
    return source_id if len(source_id) <= 255 else "sha256:" + textnorm.sha256(source_id)


class Writer:
    """Writes batches of one export's records; :meth:`finish` once after the last."""

    def __init__(self, container: Container, format_: str, site: str):
        self.container = container
        self.format = format_
        self.source = source_name(format_, site)
        self.summary = Summary()
        self._relay = True
        stores = container.stores
        with stores.moderation_engine.begin() as conn:
            conn.execute(
                insert_ignoring(stores.moderation_engine, ImportSource.__table__, ["source"]),
                {"source": self.source, "salt": secrets.token_hex(32), "created_at": utcnow()},
            )
            salt = conn.scalar(select(ImportSource.salt).where(ImportSource.source == self.source))
        self._salt = bytes.fromhex(salt)

    def comment_id(self, source_id: str) -> str:
        """Parley's id of the export's comment ``source_id``: 32 hex digits, like every
        comment id, the same on every run, and not to be guessed without the salt."""
        digest = hashlib.blake2b(
            f"{self.source}\x00{source_id}".encode(), key=self._salt, digest_size=16
        )
        return digest.hexdigest()

    # --- one batch ---------------------------------------------------------------------

    def write(self, articles: list[ArticleRecord], comments: list[CommentRecord]) -> None:
        """Store one batch (see the module's docstring); a batch that lost a race with
        another writer (a unique key) is read again and written once more."""
        try:
            self._write(articles, comments)
        except IntegrityError:
            self._write(articles, comments)

    def _write(self, articles: list[ArticleRecord], comments: list[CommentRecord]) -> None:
        stores = self.container.stores
        now = utcnow()
        fresh, duplicates = self._new_comments(comments)
        slugs = {a.slug for a in articles} | {c.article for c, _ in fresh}
        with stores.articles_read() as session:
            stored = {
                row.slug: row
                for row in session.execute(
                    select(Article.slug, Article.title, Article.url).where(
                        Article.slug.in_(sorted(slugs))
                    )
                )
            }
        new_articles, urls, kept = [], {slug: row.url for slug, row in stored.items()}, []
        for record in {a.slug: a for a in articles}.values():
            if record.slug in stored:
                if stored[record.slug].title != record.title:
                    kept.append(record.slug)
                continue
            urls[record.slug] = record.url
            new_articles.append(
                dict(
                    slug=record.slug,
                    title=record.title,
                    url=record.url,
                    summary="",
                    comments_open=record.comments_open,
                    # "closed" goes with comments_open false (shared.articles).
                    moderation="auto" if record.comments_open else "closed",
                    created_at=now,
                    updated_at=now,
                )
            )
        rows, public, history, ledger, examples, outbox = [], [], [], [], [], []
        fingerprints = self._fingerprints(fresh)
        for record, cid in fresh:
            url = urls.get(record.article)
            if url is None:  # an article the parser did not hand over: nothing to attach to
                self.summary.skipped["no article"] += 1
                continue
            rows.append(self._row(record, cid, url, fingerprints[cid], now))
            history.append(
                history_row(
                    cid,
                    now,
                    "import",
                    "import",
                    None,
                    record.status,
                    f"imported from {self.format} ({self.source}, comment {record.source_id})",
                )
            )
            ledger.append(
                dict(
                    source=self.source,
                    source_id=_source_key(record.source_id),
                    comment_id=cid,
                    imported_at=now,
                )
            )
            if record.status in ("published", "spam"):
                examples.append(
                    imported_example(
                        cid,
                        record.content,
                        record.author_name,
                        record.author_url,
                        record.status == "spam",
                        now,
                    )
                )
            if record.status == "published":
                public.append(
                    dict(
                        id=cid,
                        article_slug=record.article,
                        parent_id=rows[-1]["parent_id"],
                        author_name=record.author_name,
                        author_url=record.author_url,
                        content=record.content,
                        published_at=rows[-1]["published_at"],
                    )
                )
                outbox.append(events.new_event("comment.published", cid, record.article, now))

        def article_part(conn) -> None:
            insert_rows(conn, Article.__table__, new_articles, conflict="slug")
            insert_rows(conn, PublishedComment.__table__, public, conflict="id")

        def moderation_part(conn) -> None:
            insert_rows(conn, Comment.__table__, rows)
            insert_rows(conn, CommentHistory.__table__, history)
            insert_rows(conn, ImportedComment.__table__, ledger)
            insert_rows(conn, TrainingExample.__table__, examples)
            insert_rows(conn, EventOutbox.__table__, outbox)

        if stores.shared_database:
            with stores.moderation_engine.begin() as conn:
                article_part(conn)
                moderation_part(conn)
        else:
            with stores.articles_engine.begin() as conn:
                article_part(conn)
            with stores.moderation_engine.begin() as conn:
                moderation_part(conn)

        summary = self.summary
        summary.articles_created += len(new_articles)
        summary.articles_existing += len(articles) - len(new_articles)
        summary.duplicates += duplicates
        summary.titles_kept += len(kept)
        summary.titles_kept_slugs += kept[: max(0, 10 - len(summary.titles_kept_slugs))]
        summary.comments.update(row["status"] for row in rows)
        summary.examples += len(examples)
        summary.events += len(outbox)
        if outbox and self._relay:
            sent = events.relay_after_commit(self.container, [e["comment_id"] for e in outbox])
            summary.events_relayed += sent
            self._relay = sent > 0  # Redis away: beat's periodic relay sends the rest

    def _new_comments(
        self, comments: list[CommentRecord]
    ) -> tuple[list[tuple[CommentRecord, str]], int]:
        """The batch's comments not stored before (nor earlier in the batch), with their
        ids, and how many were."""
        keys = {_source_key(c.source_id) for c in comments}
        stored: set[str] = set()
        ordered = sorted(keys)
        with self.container.stores.moderation_read() as session:
            for start in range(0, len(ordered), CHUNK):
                stored.update(
                    session.scalars(
                        select(ImportedComment.source_id).where(
                            ImportedComment.source == self.source,
                            ImportedComment.source_id.in_(ordered[start : start + CHUNK]),
                        )
                    )
                )
        fresh = []
        for record in comments:
            key = _source_key(record.source_id)
            if key not in stored:
                stored.add(key)
                fresh.append((record, self.comment_id(record.source_id)))
        return fresh, len(comments) - len(fresh)

    def _fingerprints(self, fresh: list[tuple[CommentRecord, str]]) -> dict[str, str]:
        """Each comment's duplicate key (shared.textnorm.fingerprint). Exports hold the same
        author's same text twice on one article (double posts, spam runs), which Parley's
        unique key refuses: the second keeps its comment and gets a key of its own, so the
        first one still answers a live resubmission with 409."""
        plain = {cid: textnorm.fingerprint(r.author_email, r.content) for r, cid in fresh}
        taken: set[tuple[str, str]] = set()
        pairs = sorted({(r.article, plain[cid]) for r, cid in fresh})
        with self.container.stores.moderation_read() as session:
            for start in range(0, len(pairs), CHUNK):
                part = pairs[start : start + CHUNK]
                taken.update(
                    (row.article_slug, row.fingerprint)
                    for row in session.execute(
                        select(Comment.article_slug, Comment.fingerprint).where(
                            # Both columns: the unique index (article_slug, fingerprint).
                            Comment.article_slug.in_(sorted({slug for slug, _ in part})),
                            Comment.fingerprint.in_([fp for _, fp in part]),
                        )
                    )
                )
        keys = {}
        for record, cid in fresh:
            pair = (record.article, plain[cid])
            if pair in taken:
                keys[cid] = textnorm.sha256(plain[cid], "import", cid)
            else:
                taken.add(pair)
                keys[cid] = plain[cid]
        return keys

    def _row(self, record: CommentRecord, cid: str, url: str, fingerprint: str, now) -> dict:
        created = record.created_at or now
        published = record.status == "published"
        return dict(
            id=cid,
            article_slug=record.article,
            article_permalink=url,
            parent_id=self.comment_id(record.parent_source_id) if record.parent_source_id else None,
            author_name=record.author_name,
            author_email=record.author_email,
            author_url=record.author_url,
            content=record.content,
            user_ip=record.user_ip,
            user_agent=record.user_agent,
            referrer=None,
            accept_language=None,
            honeypot=False,
            form_token_status="imported",
            form_token_age=None,
            author_key=None,
            author_verified=False,
            fingerprint=fingerprint,
            content_hash=textnorm.content_hash(record.content),
            idempotency_key=None,
            request_id=None,
            status=record.status,
            created_at=created,
            updated_at=now,
            decided_at=None if record.status == "held" else created,
            published_at=created if published else None,
            unannounced=False,
            attempts=0,
            lease_until=None,
            queued_at=None,
            publication=1 if published else 0,
            score=None,
            reasons=[],
            decision=None,
            akismet=dict(AKISMET),
            akismet_next_check_at=None,
        )

    # --- after the last batch ----------------------------------------------------------

    def finish(self) -> None:
        """Replies whose parent is not stored (not in the file, skipped, or on another
        article) become top-level comments, in both stores. Idempotent."""
        stores = self.container.stores
        parent = aliased(Comment)
        orphan = (
            select(Comment.id)
            .join(ImportedComment, ImportedComment.comment_id == Comment.id)
            .where(
                ImportedComment.source == self.source,
                Comment.parent_id.is_not(None),
                ~exists().where(
                    and_(
                        parent.id == Comment.parent_id, parent.article_slug == Comment.article_slug
                    )
                ),
            )
        )
        with stores.moderation_read() as session:
            ids = list(session.scalars(orphan))
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            with stores.articles_engine.begin() as conn:
                conn.execute(
                    update(PublishedComment)
                    .where(PublishedComment.id.in_(part))
                    .values(parent_id=None)
                )
            with stores.moderation_engine.begin() as conn:
                conn.execute(update(Comment).where(Comment.id.in_(part)).values(parent_id=None))
        self.summary.orphans = len(ids)
        # Comments older than PARLEY_IP_RETENTION_DAYS were just stored with their client
        # data: the retention's next run must read the whole table, not only what came
        # after its last run (its bound would otherwise hold until it expires, a day).
        try:
            self.container.redis.delete(retention.WATERMARK)
        except RedisError:
            pass  # no bound is kept without Redis either: every run reads the whole table
