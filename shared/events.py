"""The event stream of CONTRACT §6: one entry on ``parley:events`` per status change."""

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


def event_fields(type_: str, comment_id: str, article: str, at: datetime | None = None) -> dict:
    """The fields of one event, as stored in the stream."""
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return {
        # uuid-utils draws in the process; the os source would be a system call (which
        # lets go of the GIL: the intake writer then waits to get it back).
        "event_id": uuid_utils.uuid4().hex,
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
