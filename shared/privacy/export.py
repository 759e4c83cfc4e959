"""``GET /api/v1/admin/authors/{email}/export`` (docs/contract.md §4): everything stored
about one address, as one JSON object written piece by piece (a person with thousands of
comments is never held in memory at once).

The object: ``address`` (as looked up), ``exported_at``, then one list per
:data:`shared.privacy.registry.SOURCES` entry, in that order (``comments`` with every column
and the history, ``published_comments``, ``training_examples``, ``list_entries``,
``audit_log``, ``pending_events``, ``moderator_account``, …). An address with nothing
stored gets the same object with every list empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select

from shared.accounts import audit
from shared.db import session_scope
from shared.models import Comment, utcnow
from shared.privacy.address import lookup_address
from shared.privacy.linked import reader_keys
from shared.privacy.registry import SOURCES
from shared.privacy.sources import Subject, matching_comments
from shared.timefmt import iso

if TYPE_CHECKING:
    from shared.bootstrap import Container


def find_subject(session, address: str, secret: str) -> Subject:
    """The comments stored under ``address`` (ids, oldest first), their client IPs and the
    keys the person reports under (``secret``: ``PARLEY_SECRET_KEY``)."""
    rows = session.execute(
        select(Comment.id, Comment.user_ip, Comment.author_key)
        .where(matching_comments(address))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    return subject_of(address, rows, secret)


def subject_of(address: str, rows, secret: str, erased_ids=()) -> Subject:
    """The :class:`Subject` of ``rows`` (with ``id``, ``user_ip``, ``author_key``)."""
    ips = tuple(dict.fromkeys(row.user_ip for row in rows if row.user_ip))
    keys = [row.author_key for row in rows if row.author_key]
    return Subject(
        address,
        tuple(row.id for row in rows),
        ips,
        reader_keys(secret, keys, ips),
        tuple(erased_ids),
    )


def export_author(container: Container, address: str, actor: str) -> Iterator[bytes]:
    """The export of ``address`` as chunks of one JSON document. The request is audited
    (``author.export``, with who asked and how many comments, never the address: the log
    would outlive an erasure) before the first chunk is made. Raises
    :class:`~shared.privacy.address.AddressError` for an address nothing is stored under."""
    address = lookup_address(address)
    stores = container.stores
    with stores.moderation_read() as session:
        subject = find_subject(session, address, container.settings.secret_key)
    with session_scope(stores.moderation) as session:
        audit(session, actor, "author.export", None, comments=len(subject.comment_ids))
    return _chunks(container, subject)


def _chunks(container: Container, subject: Subject) -> Iterator[bytes]:
    stores = container.stores
    head = {"address": subject.address, "exported_at": iso(utcnow(), precise=True)}
    yield orjson.dumps(head)[:-1]  # the object stays open for the lists
    with stores.moderation_read() as moderation, stores.articles_read() as articles:
        sessions = {"moderation": moderation, "articles": articles}
        for source in SOURCES:
            yield b',"' + source.name.encode() + b'":['
            for n, item in enumerate(source.export(sessions[source.store], subject)):
                yield (b"," if n else b"") + orjson.dumps(item)
            yield b"]"
    yield b"}"
