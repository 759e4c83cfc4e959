"""The event stream of docs/contract.md §6: one entry on ``parley:events`` per status change."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import uuid_utils

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
    }
)
# Bounded so that Redis (noeviction in production) cannot fill up with history.
MAXLEN = 100_000
# The namespace of receipt event ids (uuid5 of the comment id).
_RECEIVED = uuid_utils.uuid5(
    uuid_utils.NAMESPACE_URL, "https://parley.invalid/events/comment.received"
)


def event_fields(type_: str, comment_id: str, article: str, at: datetime | None = None) -> dict:
    """The fields of one event, as stored in the stream.

    A comment is received once, but its receipt can be written twice: if the connection
    to Redis breaks after the intake writer's hand-off ran and before its reply, the
    sweeper writes it again. So a receipt's ``event_id`` comes from the comment's id, and
    both copies carry the same one. Every other event gets a fresh id (a comment can be
    held, or published, more than once).
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
        "at": (at or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


class EventLog:
    """Appends events to the Redis stream. An event that cannot be written is logged, never
    raised: the database is the record of truth and the status change already happened."""

    def __init__(self, redis):
        self.redis = redis

    @staticmethod
    def add(pipe, entries: list[dict]) -> None:
        """Add events (fields from :func:`event_fields`) to a Redis pipeline."""
        for fields in entries:
            pipe.xadd(STREAM, fields, maxlen=MAXLEN, approximate=True)

    def append_many(self, events: list[tuple[str, str, str, datetime | None]]) -> bool:
        """Append several events in one round trip."""
        entries = [event_fields(*event) for event in events]
        try:
            pipe = self.redis.pipeline(transaction=False)
            self.add(pipe, entries)
            pipe.execute()
            return True
        except Exception as exc:  # redis down: ConnectionError, TimeoutError, …
            log.warning("events not written", extra={"events": entries, "error": str(exc)})
            return False
