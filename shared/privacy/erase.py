"""``DELETE /api/v1/admin/authors/{email}?published=delete|anonymise`` (docs/contract.md
§4): erase what is stored about one address.

Every comment stored under the address becomes a tombstone (:mod:`shared.privacy.scrub`:
nothing in it names or identifies the author; id, article, thread, times and history stay,
so counts hold and replies by others keep their place). A comment not published, or
published with ``published=delete``, moves to ``erased`` and leaves the article store
(``comment.unpublished`` if it was published, then ``comment.erased``); with
``published=anonymise`` a published comment stays published, its author shown as
"deleted" without a link (``comment.erased``). The other sources (training examples,
list entries, audit records, …) are erased in the same transaction
(:data:`shared.privacy.registry.SOURCES`). Each comment's history records the erasure with
who asked, and the audit log one ``author.erase`` line with the counts (never the address).

Atomic per store, and re-runnable after a crash at any point:

1. the article store first, while the address still names the rows: the public copies
   are removed (or anonymised); a crash after it leaves the moderation store as it was,
   and a re-run finds the same comments again;
2. the moderation store in one transaction (rows locked, status-conditional updates,
   history, outbox events, the other sources, the audit line): all or nothing;
3. the article store again, from what step 2 decided: a publication that raced step 1
   (a worker that read the comment before it was erased) is taken back out.

When both stores share one database, steps 1 and 2 are one transaction. The events are
relayed after the commit, or by beat's relay (docs/contract.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from shared import events
from shared.accounts import audit
from shared.db import session_scope
from shared.models import Comment, CommentHistory, PublishedComment, history_row, utcnow
from shared.moderation.states import EVENT_FOR_STATUS, events_for
from shared.moderation.transitions import Outbox
from shared.privacy.address import lookup_address
from shared.privacy.export import subject_of
from shared.privacy.registry import SOURCES
from shared.privacy.scrub import ERASED_NAME, erased_values
from shared.privacy.sources import Subject, chunks, matching_comments

if TYPE_CHECKING:
    from shared.bootstrap import Container

MODES = ("delete", "anonymise")
ERASED = "erased"
ACTION = "erase"


@dataclass
class Erasure:
    """What one erasure did: the answer's counts, and the comment ids per outcome."""

    mode: str
    removed: list[str] = field(default_factory=list)  # out of the article store
    anonymised: list[str] = field(default_factory=list)  # published, author "deleted"
    published_removed: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    subject: Subject | None = None

    @property
    def comments_erased(self) -> int:
        return len(self.removed) + len(self.anonymised)

    def as_json(self) -> dict[str, int]:
        """The answer: the contract's three counts, then the other sources' counts."""
        return {
            "comments_erased": self.comments_erased,
            "published_removed": self.published_removed,
            "published_anonymised": len(self.anonymised),
            **self.extra,
        }


def erase_author(container: Container, address: str, mode: str, actor: str) -> Erasure:
    """Erase everything stored about ``address``; ``mode`` says what becomes of published
    comments. Safe to run again: a second run finds nothing left, and one after a crash
    finishes the job. Raises :class:`~shared.privacy.address.AddressError` for an address
    nothing is stored under, ``ValueError`` for another mode."""
    if mode not in MODES:
        raise ValueError(f"published must be one of {', '.join(MODES)}")
    address = lookup_address(address)
    stores = container.stores
    with stores.moderation_read() as session:
        planned = _plan(session, address, mode)
    outbox = Outbox()
    if stores.shared_database:
        with session_scope(stores.moderation) as session:
            apply_to_articles(session, planned)
            erasure = erase_in_moderation_store(
                session, address, mode, actor, outbox, container.settings.secret_key
            )
            apply_to_articles(session, erasure)
    else:
        with session_scope(stores.articles) as session:
            apply_to_articles(session, planned)
        with session_scope(stores.moderation) as session:
            erasure = erase_in_moderation_store(
                session, address, mode, actor, outbox, container.settings.secret_key
            )
        with session_scope(stores.articles) as session:
            apply_to_articles(session, erasure)
    outbox.relay(container)
    if erasure.extra.get("list_entries_removed"):
        container.policy_cache.invalidate()  # this process's; the workers' reread within seconds
    return erasure


def _plan(session: Session, address: str, mode: str) -> Erasure:
    """What step 1 does to the article store, from the statuses as read now."""
    planned = Erasure(mode)
    for comment_id, status in session.execute(
        select(Comment.id, Comment.status).where(matching_comments(address))
    ):
        keep = mode == "anonymise" and status == "published"
        (planned.anonymised if keep else planned.removed).append(comment_id)
    return planned


def apply_to_articles(session: Session, erasure: Erasure) -> None:
    """Remove the public copies of ``erasure.removed`` and show ``erasure.anonymised``'s
    author as "deleted" without a link (both idempotent)."""
    for ids in chunks(erasure.removed):
        session.execute(delete(PublishedComment).where(PublishedComment.id.in_(ids)))
    for ids in chunks(erasure.anonymised):
        session.execute(
            update(PublishedComment)
            .where(PublishedComment.id.in_(ids))
            .values(author_name=ERASED_NAME, author_url=None)
        )


_ROW = (
    Comment.id,
    Comment.status,
    Comment.article_slug,
    Comment.user_ip,
    Comment.author_key,
    Comment.reasons,
    Comment.akismet,
    Comment.content,
    Comment.content_hash,
)


@cache
def _tombstone_update():
    """One status-conditional UPDATE for every comment, run as an executemany: each
    column of :func:`erased_values` and the status bound per row."""
    table = Comment.__table__
    columns = [*erased_values("", [], {}, keep_content=False), "status", "updated_at"]
    return (
        update(table)
        .where(table.c.id == bindparam("e_id"), table.c.status == bindparam("e_from"))
        .values({name: bindparam(f"e_{name}", type_=table.c[name].type) for name in columns})
    )


def erase_in_moderation_store(
    session: Session, address: str, mode: str, actor: str, outbox: Outbox, secret: str = ""
) -> Erasure:
    """Step 2, in ``session``'s transaction: tombstone every comment stored under
    ``address`` (locked first, then each moved on the condition that its status is the
    one read), with its history line and its events, then erase the other sources and
    write the audit line."""
    erasure = Erasure(mode)
    now = utcnow()
    rows = session.execute(
        select(*_ROW)
        .where(matching_comments(address))
        .order_by(Comment.created_at, Comment.id)
        .with_for_update()
    ).all()
    params, history = [], []
    note = f"erased at the author's request (published: {mode})"
    for row in rows:
        keep = mode == "anonymise" and row.status == "published"
        to_status = row.status if keep else ERASED
        values = erased_values(row.id, row.reasons, row.akismet, keep_content=keep)
        if keep:
            values.update(content=row.content, content_hash=row.content_hash)
        values.update(status=to_status, updated_at=now)
        params.append(
            {"e_id": row.id, "e_from": row.status, **{f"e_{k}": v for k, v in values.items()}}
        )
        history.append(history_row(row.id, now, actor, ACTION, row.status, to_status, note))
        # published -> erased: unpublished, erased; anonymised (still published): erased.
        types = events_for(row.status, to_status) if not keep else [EVENT_FOR_STATUS[ERASED]]
        outbox.events += [events.new_event(t, row.id, row.article_slug, now) for t in types]
        if keep:
            erasure.anonymised.append(row.id)
        else:
            erasure.removed.append(row.id)
            erasure.published_removed += row.status == "published"
    if params:
        conn = session.connection()
        done = conn.execute(_tombstone_update(), params)
        # Cannot fail under the lock; never leave half of them erased if it somehow did.
        if conn.dialect.supports_sane_multi_rowcount and done.rowcount != len(params):
            raise RuntimeError("comments changed during their erasure; nothing was erased")
        conn.execute(insert(CommentHistory), history)
    outbox.write(session)
    erasure.subject = subject_of(address, rows, secret, erasure.removed)
    _erase_sources(session, erasure)
    # Every request is audited, one that found nothing too; the address never is.
    audit(session, actor, "author.erase", None, published=mode, **erasure.as_json())
    return erasure


def _erase_sources(session: Session, erasure: Erasure) -> None:
    """Run every source's erasure (all in the moderation store) but the comments'."""
    assert erasure.subject is not None
    for source in SOURCES:
        if source.erase is not None:
            for key, n in source.erase(session, erasure.subject).items():
                erasure.extra[key] = erasure.extra.get(key, 0) + n


__all__ = ["ERASED", "MODES", "Erasure", "apply_to_articles", "erase_author"]
