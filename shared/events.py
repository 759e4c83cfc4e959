"""The event stream of docs/contract.md §6: one entry on ``parley:events`` per status change.

Two paths lead to the stream, and neither loses an event to a Redis outage:

- A receipt (``comment.received``) rides with the comment's check task in the intake's
  hand-off; if Redis cannot take it, the comment is flagged ``unannounced`` and the sweeper
  writes it later, with an ``event_id`` derived from the comment's id.
- Every other event is recorded in the moderation store's outbox (:class:`EventOutbox`)
  in the transaction of its change, then relayed: right after the commit by the process
  that made the change (:func:`relay_after_commit`), and by beat's periodic relay for
  whatever that could not send (:func:`relay_pending`). A row is deleted only after Redis
  took it, so a crash in between sends it again, with the same ``event_id``: at least
  once, duplicates only ever with one id.

One comment's events reach the stream in the order of its changes: a relay sends the
pending rows in id order, and the fast path sends a comment's older pending events along
with its own, never after them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import uuid_utils
from redis.exceptions import LockError, RedisError
from sqlalchemy import bindparam, delete, func, insert, select

from shared.models.moderation_store import EventOutbox

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)

STREAM = "parley:events"
TYPES = frozenset(
    {
        "comment.received",
        "comment.held",
        "comment.spam",
        "comment.discarded",
        "comment.published",
        "comment.unpublished",
        "comment.rejected",
        "comment.erased",
        "comment.reported",
    }
)
# Bounded so that Redis (noeviction in production) cannot fill up with history.
MAXLEN = 100_000
# The namespace of receipt event ids (uuid5 of the comment id).
_RECEIVED = uuid_utils.uuid5(
    uuid_utils.NAMESPACE_URL, "https://parley.invalid/events/comment.received"
)
# Outbox rows a relay reads and sends at a time.
RELAY_BATCH = 1000
# One periodic relay at a time (see relay_pending).
RELAY_LOCK = "parley:lock:relay-events"
RELAY_LOCK_SECONDS = 60


def new_event(type_: str, comment_id: str, article: str, at: datetime | None = None) -> dict:
    """One event with its ``event_id`` drawn: the outbox's columns (``at`` a datetime).

    A comment is received once, but its receipt can be written twice: if the connection
    to Redis breaks after the intake writer's hand-off ran and before its reply, the
    sweeper writes it again. So a receipt's ``event_id`` comes from the comment's id, and
    both copies carry the same one. Every other event gets a fresh id (a comment can be
    held, or published, more than once), drawn here once and stored with the event.
    """
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    if type_ == "comment.received":
        event_id = uuid_utils.uuid5(_RECEIVED, comment_id)
    else:
        # uuid-utils draws in the process; the os source would be a system call (which
        # lets go of the GIL while the caller may hold a batch).
        event_id = uuid_utils.uuid4()
    return {
        "event_id": event_id.hex,
        "type": type_,
        "comment_id": comment_id,
        "article": article,
        "at": at or datetime.now(UTC),
    }


def stream_fields(event) -> dict:
    """The fields of ``event`` (a :func:`new_event` dict or an outbox row) as stored in
    the stream: ``at`` in ISO 8601 UTC with a ``Z``."""
    if isinstance(event, dict):
        event_id, type_, comment_id, article, at = (
            event["event_id"],
            event["type"],
            event["comment_id"],
            event["article"],
            event["at"],
        )
    else:
        event_id, type_, comment_id, article, at = (
            event.event_id,
            event.type,
            event.comment_id,
            event.article,
            event.at,
        )
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return {
        "event_id": event_id,
        "type": type_,
        "comment_id": comment_id,
        "article": article,
        "at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def event_fields(type_: str, comment_id: str, article: str, at: datetime | None = None) -> dict:
    """The stream fields of a new event (receipts, which do not go through the outbox)."""
    return stream_fields(new_event(type_, comment_id, article, at))


class EventLog:
    """Appends events to the Redis stream."""

    def __init__(self, redis):
        self.redis = redis

    @staticmethod
    def add(pipe, entries: list[dict]) -> None:
        """Add events (fields from :func:`stream_fields`) to a Redis pipeline."""
        for fields in entries:
            pipe.xadd(STREAM, fields, maxlen=MAXLEN, approximate=True)

    def write(self, entries: list[dict]) -> None:
        """Append events in one round trip, in order; raises if Redis did not take them."""
        pipe = self.redis.pipeline(transaction=False)
        self.add(pipe, entries)
        pipe.execute()

    def append_many(self, events: list[tuple[str, str, str, datetime | None]]) -> bool:
        """Append several new events in one round trip; whether they were written. A
        failure is logged, not raised (the sweeper's receipts: their flag stays set)."""
        entries = [event_fields(*event) for event in events]
        try:
            self.write(entries)
            return True
        except Exception as exc:  # redis down: ConnectionError, TimeoutError, …
            log.warning("events not written", extra={"events": entries, "error": str(exc)})
            return False


# --- the outbox -------------------------------------------------------------------------

_COLUMNS = (
    EventOutbox.id,
    EventOutbox.event_id,
    EventOutbox.type,
    EventOutbox.comment_id,
    EventOutbox.article,
    EventOutbox.at,
)
_RECORD = insert(EventOutbox)
_PENDING_OF = (
    select(*_COLUMNS)
    .where(EventOutbox.comment_id.in_(bindparam("o_comments", expanding=True)))
    .order_by(EventOutbox.id)
)
_PENDING = select(*_COLUMNS).order_by(EventOutbox.id).limit(RELAY_BATCH)
_RELAYED = (
    delete(EventOutbox)
    .where(EventOutbox.id.in_(bindparam("o_ids", expanding=True)))
    .returning(EventOutbox.id)
)


def record(conn, events: list[dict]) -> None:
    """Insert ``events`` (:func:`new_event` dicts) into the outbox, in order, in the caller's
    transaction (``conn``: a Session or a Core connection): one statement."""
    if events:
        conn.execute(_RECORD, events)


def _send(container: Container, rows) -> int:
    """Append outbox ``rows`` (in id order) to the stream, then delete them. Raises if
    either step fails; the rows are then still pending (deleted only once Redis took them).

    The rows this relay deleted (not those another relay deleted first) are offered to
    webhooks in the same transaction (shared.webhooks.fanout), so each event is fanned
    out once, or again only if that transaction is lost with its delete; the deliveries
    are queued once it commits."""
    if not rows:
        return 0
    container.events.write([stream_fields(row) for row in rows])
    with _without_fsync(container.stores.moderation_engine) as conn:
        deleted = set(conn.execute(_RELAYED, {"o_ids": [row.id for row in rows]}).scalars())
        fanned = container.offer_to_webhooks(conn, [row for row in rows if row.id in deleted])
    container.queue_deliveries(fanned)
    return len(rows)


@contextmanager
def _without_fsync(engine) -> Iterator:
    """A write transaction whose commit need not survive a power cut: a relay's delete,
    which, if lost, only makes a later relay send those events again, with their
    ``event_id``. It spares the flush to disk that every other commit waits for (each
    decided batch would otherwise pay two, one of them for this delete): on SQLite in WAL
    mode, ``synchronous=NORMAL`` for this transaction alone (the next durable commit
    flushes it too; a pragma that SQLite refuses inside a transaction, so it is set on the
    connection before the transaction begins and set back after); on PostgreSQL,
    ``synchronous_commit`` off for this transaction (``SET LOCAL``)."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            with conn.begin():
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn
            return
        raw = conn.connection.dbapi_connection
        raw.execute("PRAGMA synchronous=NORMAL")
        try:
            with conn.begin():
                yield conn
        finally:
            raw.execute("PRAGMA synchronous=FULL")  # as shared.db sets every connection


# The webhook deliveries' bookkeeping commits the same way (shared.webhooks.delivery): a
# lost claim or outcome only sends a delivery again, with its event_id.
without_fsync = _without_fsync


def relay_after_commit(container: Container, comment_ids) -> int:
    """The fast path, right after a commit that recorded events of ``comment_ids``: send
    every pending event of those comments, in id order, and delete them. The number sent.

    Older events of the same comments still pending (Redis was down, or another process
    has not relayed them yet) go first, so a comment's new event never overtakes an old
    one; if another process relays some of them too, each repeat has its one
    ``event_id``. Anything that fails is logged and left to :func:`relay_pending`: the
    change is committed and its events are safe in the outbox.
    """
    ids = list(dict.fromkeys(comment_ids))
    if not ids:
        return 0
    try:
        with container.stores.moderation_read_engine.connect() as conn:  # Core: rows only
            rows = conn.execute(_PENDING_OF, {"o_comments": ids}).all()
        return _send(container, rows)
    except Exception as exc:  # Redis down, or the database: the periodic relay sends them
        log.warning(
            "events not relayed; the periodic relay will send them",
            extra={"comment_ids": ids[:50], "error": str(exc)[:300]},
        )
        return 0


def relay_pending(container: Container, rounds: int = 20) -> int:
    """Beat's periodic relay: send every pending event, oldest first, in batches of
    :data:`RELAY_BATCH` (at most ``rounds`` of them), deleting each batch once sent. The
    number sent.

    One at a time, under a lock in Redis, so that two relays (beat's and a late one) do
    not both send the same backlog; the fast path needs no lock (it sends a few rows, and
    a rare repeat carries its ``event_id``). With Redis down nothing is sent and the rows
    wait for the next run; an empty outbox costs one read and no Redis round trip.
    """
    with container.stores.moderation_read() as session:
        if session.scalar(select(EventOutbox.id).limit(1)) is None:
            return 0
    lock = container.redis.lock(RELAY_LOCK, timeout=RELAY_LOCK_SECONDS)
    try:
        if not lock.acquire(blocking=False):
            return 0
    except RedisError:
        return 0
    sent = 0
    try:
        for _ in range(rounds):
            with container.stores.moderation_read() as session:
                rows = session.execute(_PENDING).all()
            sent += _send(container, rows)
            if len(rows) < RELAY_BATCH:
                break
    except Exception as exc:
        log.warning("events not relayed", extra={"sent": sent, "error": str(exc)[:300]})
    finally:
        try:
            lock.release()
        except (LockError, RedisError):
            pass  # expired, or Redis went away: the lock lapses by itself
    return sent


def pending_count(session) -> int:
    """Events recorded and not yet relayed (the gauge ``parley_events_pending``)."""
    return session.scalar(select(func.count()).select_from(EventOutbox)) or 0
