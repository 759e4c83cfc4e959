"""Status changes as short, conditional updates, with their history and events.

Every change is ``UPDATE … WHERE id = ? AND status = <expected>`` (plus an optional guard),
so two workers, a redelivered task or a moderator racing a worker can never both win.
Events are appended only after the change is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from shared.models import Comment, CommentHistory, history_row, utcnow
from shared.moderation.states import events_for

if TYPE_CHECKING:
    from shared.bootstrap import Container


@dataclass
class Outbox:
    """Events of one unit of work, sent after it commits."""

    pending: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, from_status: str, to_status: str, comment_id: str, article: str) -> None:
        for type_ in events_for(from_status, to_status):
            self.pending.append((type_, comment_id, article))

    def flush(self, container: Container) -> None:
        if self.pending:
            container.events.append_many(
                [(type_, comment_id, article, None) for type_, comment_id, article in self.pending]
            )
        self.pending.clear()


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
    caller saw. ``values`` are further columns to set in the same update.
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
    if outbox is not None:
        outbox.add(from_status, to_status, comment.id, comment.article_slug)
    return True
