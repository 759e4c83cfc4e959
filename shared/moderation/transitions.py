"""Status changes as short, conditional updates, with their history and events.

Every change is ``UPDATE … WHERE id = ? AND status = <expected>`` (plus an optional guard),
so two workers, a redelivered task or a moderator racing a worker can never both win.
Its events are recorded in the outbox in the same transaction (after the update, so one
comment's events are recorded in the order of its changes) and relayed to Redis after
the commit (:mod:`shared.events`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from shared import events
from shared.mail import delivery as mail
from shared.models import Comment, CommentHistory, history_row, utcnow
from shared.moderation.states import events_for

if TYPE_CHECKING:
    from shared.bootstrap import Container


def move_events(
    from_status: str, to_status: str, comment_id: str, article: str, at: datetime | None = None
) -> list[dict]:
    """The events of one move (:func:`shared.events.new_event` dicts), in order."""
    return [
        events.new_event(type_, comment_id, article, at)
        for type_ in events_for(from_status, to_status)
    ]


@dataclass
class Outbox:
    """Events of one unit of work: recorded in its transaction (:meth:`write`), relayed
    once it commits (:meth:`relay`)."""

    events: list[dict] = field(default_factory=list)
    written: int = 0

    def add(
        self,
        from_status: str,
        to_status: str,
        comment_id: str,
        article: str,
        at: datetime | None = None,
    ) -> None:
        """The events of one move (none for an inner step), each with its ``event_id``."""
        self.events += move_events(from_status, to_status, comment_id, article, at)

    def write(self, conn) -> None:
        """Insert the events added since the last write, in the caller's transaction."""
        events.record(conn, self.events[self.written :])
        self.written = len(self.events)

    def relay(self, container: Container) -> None:
        """After the commit: send this unit's events (and any older pending ones of the
        same comments) to the stream; what cannot be sent waits for the periodic relay."""
        if self.events:
            events.relay_after_commit(container, [event["comment_id"] for event in self.events])
            # Readers' mails about these publications (replies, approvals), if any.
            mail.after_publication(
                container,
                [e["comment_id"] for e in self.events if e["type"] == "comment.published"],
            )
        self.events.clear()
        self.written = 0


def transition(
    session: Session,
    comment: Comment,
    to_status: str,
    *,
    actor: str,
    action: str,
    note: str | None = None,
    guard=None,
    outbox: Outbox | None = None,
    **values,
) -> bool:
    """Move ``comment`` from its current status to ``to_status`` if nobody moved it first.

    Returns False (and changes nothing) when the row is no longer in the status the
    caller saw. ``values`` are further columns to set in the same update. The move's
    events are recorded in ``session``'s transaction; the caller relays ``outbox`` after
    the commit.
    """
    from_status = comment.status
    now = utcnow()
    stmt = update(Comment).where(Comment.id == comment.id, Comment.status == from_status)
    if guard is not None:
        stmt = stmt.where(guard)
    result = session.execute(
        stmt.values(status=to_status, updated_at=now, **values).execution_options(
            synchronize_session=False
        )
    )
    if result.rowcount != 1:
        return False
    # A Core insert: no unit-of-work flush for a row nobody reads back in this session.
    session.execute(
        insert(CommentHistory),
        history_row(comment.id, now, actor, action, from_status, to_status, note),
    )
    # Recorded whether or not the caller relays them: without an outbox of the caller's,
    # the periodic relay sends them.
    outbox = outbox if outbox is not None else Outbox()
    outbox.add(from_status, to_status, comment.id, comment.article_slug, now)
    outbox.write(session)
    return True
