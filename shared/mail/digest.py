"""The moderators' digest: how many comments wait, with links straight to the queues.

Beat's mail tick (:func:`plan_digests`) plans one for each enabled moderator who did not
unsubscribe, when comments wait and new work arrived since that moderator's last digest,
and at most one per ``PARLEY_MODERATOR_DIGEST_MINUTES``: each moderator's last digest time
is claimed with a conditional update (``moderator_digests``), so two ticks at once plan
one digest. The counts are read again when the mail is sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.mail import compose, log, optout
from shared.mail.notify import Gone
from shared.models import Comment, CommentReport, MailLog, MailOptOut, Moderator, ModeratorDigest

if TYPE_CHECKING:
    from shared.bootstrap import Container

# The dashboard's page of each queue a digest counts.
QUEUE_PATHS = {"held": "/admin/queue/held", "reported": "/admin/reported"}
_REPORTABLE = ("held", "published")  # as the Reported page (shared.moderation.reports)


def waiting(session: Session) -> tuple[dict[str, int], datetime | None]:
    """Comments waiting per queue (Held; Reported: held or published comments with reports
    no moderator cleared), and when the newest of that work arrived."""
    held, held_at = session.execute(
        select(func.count(Comment.id), func.max(Comment.updated_at)).where(Comment.status == "held")
    ).one()
    reported, reported_at = session.execute(
        select(
            func.count(func.distinct(CommentReport.comment_id)), func.max(CommentReport.created_at)
        )
        .join(Comment, Comment.id == CommentReport.comment_id)
        .where(CommentReport.cleared_at.is_(None), Comment.status.in_(_REPORTABLE))
    ).one()
    newest = max((at for at in (held_at, reported_at) if at is not None), default=None)
    return {"held": held or 0, "reported": reported or 0}, newest


def queue_links(dashboard_url: str, counts: dict[str, int]) -> dict[str, str]:
    return {queue: dashboard_url.rstrip("/") + QUEUE_PATHS[queue] for queue in counts}


_ROWS = {
    name: module.insert(ModeratorDigest).on_conflict_do_nothing(index_elements=["moderator_id"])
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}


def plan_digests(container: Container, now: datetime) -> list[int]:
    """Plan the digests that are due; the ids of the mails planned."""
    settings = container.settings
    if not settings.mail_configured:
        return []
    period = timedelta(minutes=settings.moderator_digest_minutes)
    with container.stores.moderation_read() as session:
        counts, newest = waiting(session)
        if not sum(counts.values()):
            return []
        unsubscribed = set(session.scalars(select(MailOptOut.address_hash)))
        moderators = [
            (m.id, m.email)
            for m in session.scalars(select(Moderator).where(Moderator.disabled.is_(False)))
            if optout.address_hash(m.email) not in unsubscribed
        ]
    if not moderators:
        return []
    planned = []
    with session_scope(container.stores.moderation) as session:
        insert_row = _ROWS[
            "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
        ]
        for moderator_id, email in moderators:
            session.execute(insert_row, {"moderator_id": moderator_id, "last_sent_at": None})
            claimed = session.execute(
                update(ModeratorDigest)
                .where(
                    ModeratorDigest.moderator_id == moderator_id,
                    or_(
                        ModeratorDigest.last_sent_at.is_(None),
                        and_(
                            ModeratorDigest.last_sent_at <= now - period,
                            ModeratorDigest.last_sent_at < newest,
                        ),
                    ),
                )
                .values(last_sent_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed == 1:
                mail_id = log.plan(
                    session,
                    key=f"digest:{moderator_id}:{now.isoformat()}",
                    kind="digest",
                    to=email,
                    detail={"counts": counts},
                    now=now,
                )
                if mail_id is not None:
                    planned.append(mail_id)
    return planned


def render(container: Container, row: MailLog) -> EmailMessage:
    """The digest as the queues are now; :class:`Gone` if nothing waits any more."""
    with container.stores.moderation_read() as session:
        counts, _ = waiting(session)
    if not sum(counts.values()):
        raise Gone("nothing waits any more")
    settings = container.settings
    body = compose.digest_body(
        counts=counts,
        links=queue_links(settings.dashboard_url, counts),
        minutes=settings.moderator_digest_minutes,
    )
    return compose.message(settings, row.to_address, "digest", body)
