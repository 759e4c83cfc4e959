"""The core places that hold data about one person, each with its export and its erasure
(:mod:`shared.privacy.linked` has those in other features' tables; both are assembled in
:data:`shared.privacy.registry.SOURCES`).

A :class:`Source` is one table (or one kind of row): ``export`` yields its rows about the
:class:`Subject` as JSON objects, ``erase`` (if any) removes or scrubs them inside the
erasure's transaction of that store and returns counts for the answer. A new table that
holds personal data adds a :class:`Source` to :data:`CORE` or to
:data:`shared.privacy.linked.LINKED` (its ``name`` becomes a key of the export). The comments themselves, and their published copies, are erased by
:mod:`shared.privacy.erase` (it moves their status and records their events); they are
exported from here like everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, func, inspect, or_, select
from sqlalchemy.orm import Session

from shared.models import AuditLog, Comment, CommentHistory, ListEntry, Moderator, PublishedComment
from shared.models.moderation_store import EventOutbox, TrainingExample
from shared.timefmt import iso

# Ids per ``IN (…)`` list: well under SQLite's and PostgreSQL's limits on parameters.
CHUNK = 500
# List kinds whose entries hold an address or an IP.
ADDRESS_KINDS = ("blocked_email", "trusted_author")
IP_KINDS = ("blocked_ip",)
# Entries an erasure removes: those that do the person a favour. A block stays (the site's
# legitimate interest in keeping a spammer out outweighs it; the README says so).
ERASED_KINDS = ("trusted_author",)
LIST_ACTIONS = ("list.add", "list.remove", "list.mode")
ERASED_VALUE = "(erased)"


@dataclass(frozen=True)
class Subject:
    """Whom an export or erasure is about: the address (as :func:`.address.lookup_address`
    gives it), the ids of the comments stored under it and the client IPs they came from."""

    address: str
    comment_ids: tuple[str, ...] = ()
    ips: tuple[str, ...] = field(default=())
    # Who they are when they report a comment (shared.privacy.linked.reader_keys).
    reader_keys: tuple[str, ...] = ()
    # Of comment_ids, those an erasure moved to ``erased`` (not kept published).
    erased_ids: tuple[str, ...] = ()


Exporter = Callable[[Session, Subject], Iterable[dict]]
Eraser = Callable[[Session, Subject], dict[str, int]]


@dataclass(frozen=True)
class Source:
    """One place holding data about a person: ``store`` is ``moderation`` or ``articles``.

    Only moderation-store sources have an ``erase``: it runs in the erasure's one
    transaction there, so it is all or nothing with the comments' tombstones. The article
    store holds no personal data but the public copies (docs/contract.md §2), which
    :mod:`shared.privacy.erase` handles.
    """

    name: str
    store: Literal["moderation", "articles"]
    export: Exporter
    erase: Eraser | None = None


def chunks(ids: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``size``."""
    batch: list[str] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _value(value: Any) -> Any:
    return iso(value, precise=True) if isinstance(value, datetime) else value


def row_json(obj: Any, exclude: Iterable[str] = ()) -> dict:
    """Every column of an ORM row, datetimes in ISO 8601 UTC."""
    skip = set(exclude)
    return {
        attr.key: _value(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in skip
    }


def address_matches(column, address: str):
    """``column`` names ``address``, letter case aside (SQL ``lower`` on both sides)."""
    return func.lower(column) == func.lower(address)


def matching_comments(address: str):
    """The comments stored under ``address``."""
    return address_matches(Comment.author_email, address)


# --- the moderation store -------------------------------------------------------------


def export_comments(session: Session, subject: Subject) -> Iterator[dict]:
    """Every comment stored under the address, in every status, with every column (private
    ones included) and its history, oldest first."""
    for ids in chunks(subject.comment_ids):
        history: dict[str, list[dict]] = {}
        for h in session.scalars(
            select(CommentHistory)
            .where(CommentHistory.comment_id.in_(ids))
            .order_by(CommentHistory.id)
        ):
            history.setdefault(h.comment_id, []).append(row_json(h, exclude=("comment_id",)))
        for comment in session.scalars(
            select(Comment).where(Comment.id.in_(ids)).order_by(Comment.created_at, Comment.id)
        ):
            yield {**row_json(comment), "history": history.get(comment.id, [])}


def export_training_examples(session: Session, subject: Subject) -> Iterator[dict]:
    """The classifier's labelled examples made from those comments."""
    for ids in chunks(subject.comment_ids):
        for row in session.scalars(
            select(TrainingExample)
            .where(TrainingExample.comment_id.in_(ids))
            .order_by(TrainingExample.id)
        ):
            yield row_json(row)


def erase_training_examples(session: Session, subject: Subject) -> dict[str, int]:
    """Delete them (the models already trained keep only word weights, and the next
    retraining leaves the examples out)."""
    deleted = 0
    for ids in chunks(subject.comment_ids):
        result = session.execute(delete(TrainingExample).where(TrainingExample.comment_id.in_(ids)))
        deleted += result.rowcount or 0
    return {"training_examples_deleted": deleted}


def _list_entries(session: Session, subject: Subject) -> list[ListEntry]:
    rows = list(
        session.scalars(
            select(ListEntry)
            .where(
                ListEntry.kind.in_(ADDRESS_KINDS),
                # Lists store values case-folded (shared.moderation.lists): "ß" as "ss".
                or_(
                    address_matches(ListEntry.value, subject.address),
                    ListEntry.value == subject.address.casefold(),
                ),
            )
            .order_by(ListEntry.id)
        )
    )
    if subject.ips:
        rows += session.scalars(
            select(ListEntry)
            .where(ListEntry.kind.in_(IP_KINDS), ListEntry.value.in_(subject.ips))
            .order_by(ListEntry.id)
        )
    return rows


def export_list_entries(session: Session, subject: Subject) -> Iterator[dict]:
    """Moderation-list entries naming the address (blocked, trusted) or one of its IPs."""
    for entry in _list_entries(session, subject):
        yield row_json(entry)


def erase_list_entries(session: Session, subject: Subject) -> dict[str, int]:
    """Remove the entries that favour the person (trusted author); blocks stay."""
    removed = kept = 0
    for entry in _list_entries(session, subject):
        if entry.kind in ERASED_KINDS:
            session.delete(entry)
            removed += 1
        else:
            kept += 1
    return {"list_entries_removed": removed, "list_entries_kept": kept}


def _audit_rows(session: Session, subject: Subject) -> Iterator[AuditLog]:
    """Audit records of list changes whose value is the address or one of its IPs (the
    value is in the JSON detail, read here rather than in portable SQL; list changes are
    few)."""
    wanted = {subject.address.lower(), subject.address.casefold()}
    ips = set(subject.ips)
    for entry in session.scalars(
        select(AuditLog)
        .where(AuditLog.action.in_(LIST_ACTIONS), AuditLog.target.in_(ADDRESS_KINDS + IP_KINDS))
        .order_by(AuditLog.id)
    ):
        value = (entry.detail or {}).get("value")
        if isinstance(value, str) and (value.lower() in wanted or value in ips):
            yield entry


def export_audit_log(session: Session, subject: Subject) -> Iterator[dict]:
    """Admins' changes to list entries naming the address or one of its IPs."""
    for entry in _audit_rows(session, subject):
        yield row_json(entry)


def erase_audit_log(session: Session, subject: Subject) -> dict[str, int]:
    """The address in the records of entries an erasure removes becomes ``(erased)``; who
    changed what and when stays."""
    scrubbed = 0
    for entry in _audit_rows(session, subject):
        if entry.target in ERASED_KINDS:
            entry.detail = {**(entry.detail or {}), "value": ERASED_VALUE}
            scrubbed += 1
    return {"audit_entries_scrubbed": scrubbed}


def export_pending_events(session: Session, subject: Subject) -> Iterator[dict]:
    """Events of those comments recorded and not yet relayed (ids and times only)."""
    for ids in chunks(subject.comment_ids):
        for row in session.scalars(
            select(EventOutbox).where(EventOutbox.comment_id.in_(ids)).order_by(EventOutbox.id)
        ):
            yield row_json(row)


def export_moderator_account(session: Session, subject: Subject) -> Iterator[dict]:
    """A dashboard account under the address (not erased here: admins disable accounts on
    the Moderators page; the password's hash is never shown)."""
    for account in session.scalars(
        select(Moderator).where(address_matches(Moderator.email, subject.address))
    ):
        yield row_json(account, exclude=("password_hash",))


# --- the article store ----------------------------------------------------------------


def export_published_comments(session: Session, subject: Subject) -> Iterator[dict]:
    """The public copies of those comments, as readers see them."""
    for ids in chunks(subject.comment_ids):
        for row in session.scalars(
            select(PublishedComment)
            .where(PublishedComment.id.in_(ids))
            .order_by(PublishedComment.published_at, PublishedComment.id)
        ):
            yield row_json(row)


CORE: tuple[Source, ...] = (
    Source("comments", "moderation", export_comments),
    Source("published_comments", "articles", export_published_comments),
    Source("training_examples", "moderation", export_training_examples, erase_training_examples),
    Source("list_entries", "moderation", export_list_entries, erase_list_entries),
    Source("audit_log", "moderation", export_audit_log, erase_audit_log),
    Source("pending_events", "moderation", export_pending_events),
    Source("moderator_account", "moderation", export_moderator_account),
)
