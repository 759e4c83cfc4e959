"""Client data dropped from stored comments after ``PARLEY_IP_RETENTION_DAYS``
(docs/contract.md §2): beat's purge, in batches.

A comment received longer ago than the retention loses ``user_ip`` (set to ``""``; the
column is not nullable), ``user_agent``, ``referrer`` and ``accept_language`` (``NULL``):
all that the request told about the reader's machine. Akismet asks for them with every
call about a comment, so two kinds wait until they no longer need Akismet:

- comments not checked yet (``received``, ``checking``);
- comments held for an Akismet error whose recheck is still planned (the rechecks stop
  after ``PARLEY_AKISMET_GIVEUP_DAYS``).

A moderator's correction of an older comment is not reported to Akismet (it requires the
IP): its history says so (:func:`shared.moderation.actions.send_feedback`).

Each run reads only comments received since the last run's bound (kept in Redis, forgotten
once a day and whenever Redis is), so an hourly run does not read the whole table again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from sqlalchemy import and_, func, not_, or_, select, update

from shared.models import Comment, utcnow
from shared.moderation.states import STATUSES

if TYPE_CHECKING:
    from shared.bootstrap import Container

BATCH = 1000
# Comments received before this time (ISO 8601) have been purged, but for those waiting.
WATERMARK = "parley:privacy:client-data-through"
WATERMARK_SECONDS = 24 * 3600
CLEARED = dict(user_ip="", user_agent=None, referrer=None, accept_language=None)

_HAS_CLIENT_DATA = or_(
    Comment.user_ip != "",
    Comment.user_agent.is_not(None),
    Comment.referrer.is_not(None),
    Comment.accept_language.is_not(None),
)
# Still to be asked about: Akismet needs the IP and the user agent.
_WAITING = or_(
    Comment.status.in_(("received", "checking")),
    and_(Comment.status == "held", Comment.akismet_next_check_at.is_not(None)),
)


def purge_client_data(container: Container, now: datetime | None = None) -> dict[str, int]:
    """Clear the client data of comments received more than the retention ago; the
    number cleared and the number that keep theirs while they wait for Akismet."""
    now = now or utcnow()
    cutoff = now - timedelta(days=container.settings.ip_retention_days)
    since = _watermark(container)
    # The status list lets both databases read the (status, created_at) index.
    window = [Comment.status.in_(STATUSES), Comment.created_at < cutoff, _HAS_CLIENT_DATA]
    if since is not None:
        window.append(Comment.created_at >= since)
    cleared = 0
    while True:
        with container.stores.moderation_engine.begin() as conn:
            ids = list(
                conn.scalars(
                    select(Comment.id)
                    .where(*window, not_(_WAITING))
                    .order_by(Comment.created_at)
                    .limit(BATCH)
                )
            )
            if ids:
                conn.execute(update(Comment).where(Comment.id.in_(ids)).values(**CLEARED))
        cleared += len(ids)
        if len(ids) < BATCH:
            break
    with container.stores.moderation_read() as session:
        waiting, oldest = session.execute(
            select(func.count(), func.min(Comment.created_at)).where(*window, _WAITING)
        ).one()
    _set_watermark(container, min(cutoff, oldest) if oldest is not None else cutoff)
    return {"cleared": cleared, "waiting": waiting}


def _watermark(container: Container) -> datetime | None:
    try:
        raw = container.redis.get(WATERMARK)
        return datetime.fromisoformat(raw) if raw else None
    except (RedisError, ValueError):
        return None  # a full pass: slower, never wrong


def _set_watermark(container: Container, at: datetime) -> None:
    """Move the bound, keeping its expiry: a full pass once a day catches comments stored
    with an earlier date after a run (an import)."""
    value = at.isoformat()
    try:
        if not container.redis.set(WATERMARK, value, xx=True, keepttl=True):
            container.redis.set(WATERMARK, value, ex=WATERMARK_SECONDS, nx=True)
    except RedisError:
        pass
