"""The sources in other features' tables (:mod:`shared.privacy.sources` has the core ones):
readers' reports.

What each holds about a person, and what an erasure does to it:

- **reports on their comments** (``comment_reports``): exported (reason, note, times, not
  who reported: that is another reader); deleted with an erased comment, kept on one that
  stays published anonymised (still a moderation matter).
- **reports they made**, found by their commenter key's hash (``author_key`` of their
  comments) or their IPs' keyed hash (as :func:`shared.moderation.reports.reader_for`
  makes it, with this ``PARLEY_SECRET_KEY``): exported; the reader's key becomes a hash of
  the report's id, the note goes, the report still counts (its comment's threshold holds).
(Mail, webhooks and imports join them as those features land.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.models import CommentReport
from shared.privacy.sources import Source, Subject, chunks, row_json


def reader_keys(secret: str, author_keys, ips) -> tuple[str, ...]:
    """The keys under which the reports a person made are stored: their commenter keys'
    hashes, and their IPs' keyed hashes (shared.moderation.reports.reader_for)."""
    from shared.moderation.reports import reader_for

    return tuple(dict.fromkeys([*author_keys, *(reader_for(secret, None, ip).key for ip in ips)]))


def export_reports_received(session: Session, subject: Subject) -> Iterator[dict]:
    """Readers' reports of their comments (who reported left out: another reader)."""
    for ids in chunks(subject.comment_ids):
        for row in session.scalars(
            select(CommentReport)
            .where(CommentReport.comment_id.in_(ids))
            .order_by(CommentReport.id)
        ):
            yield row_json(row, exclude=("reader_kind", "reader_key"))


def _reports_made(subject: Subject):
    keys = list(subject.reader_keys)
    return CommentReport.reader_key.in_(keys) if keys else None


def export_reports_made(session: Session, subject: Subject) -> Iterator[dict]:
    """Reports they made (by their commenter key or from their IPs)."""
    made = _reports_made(subject)
    if made is None:
        return
    for row in session.scalars(select(CommentReport).where(made).order_by(CommentReport.id)):
        yield row_json(row, exclude=("reader_key",))


def erase_reports(session: Session, subject: Subject) -> dict[str, int]:
    """Delete the reports of their erased comments; make the ones they made anonymous."""
    deleted = 0
    for ids in chunks(subject.erased_ids):
        deleted += (
            session.execute(delete(CommentReport).where(CommentReport.comment_id.in_(ids))).rowcount
            or 0
        )
    anonymised = 0
    made = _reports_made(subject)
    if made is not None:
        for report_id in session.scalars(select(CommentReport.id).where(made)).all():
            marker = hashlib.sha256(f"parley.erased-report\x00{report_id}".encode()).hexdigest()
            anonymised += (
                session.execute(
                    update(CommentReport)
                    .where(CommentReport.id == report_id)
                    .values(reader_key=marker, note=None)
                ).rowcount
                or 0
            )
    return {"reports_deleted": deleted, "reports_made_anonymised": anonymised}


LINKED: tuple[Source, ...] = (
    Source("reports_received", "moderation", export_reports_received, erase_reports),
    Source("reports_made", "moderation", export_reports_made),
)
