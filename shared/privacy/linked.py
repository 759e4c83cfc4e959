"""The sources in other features' tables (:mod:`shared.privacy.sources` has the core ones):
readers' reports, the mail log and opt-outs, webhook events and deliveries, imports.

What each holds about a person, and what an erasure does to it:

- **reports on their comments** (``comment_reports``): exported (reason, note, times, not
  who reported: that is another reader); deleted with an erased comment, kept on one that
  stays published anonymised (still a moderation matter).
- **reports they made**, found by their commenter key's hash (``author_key`` of their
  comments) or their IPs' keyed hash (as :func:`shared.moderation.reports.reader_for`
  makes it, with this ``PARLEY_SECRET_KEY``): exported; the reader's key becomes a hash of
  the report's id, the note goes, the report still counts (its comment's threshold holds).
- **mails to the address** (``mail_log.to_address``): exported; deleted (one not sent yet
  is then never sent). Mails to others about their comments are the others' and stay.
- **an opt-out** (``mail_optouts``, only the address's SHA-256): exported; kept, so the
  person still gets no mail (what the opt-out is for).
- **webhook events and deliveries naming their comments** (ids, types, times, receivers'
  answers): exported; kept (they name nobody). A comment's public fields are read when a
  delivery is sent, so one sent after the erasure carries the tombstone's ("deleted", no
  text).
- **imports** (``imported_comments``: which export a comment came from): exported; kept, so
  a re-import does not bring an erased comment back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.models import CommentReport, ImportedComment, MailLog, MailOptOut
from shared.models.webhooks import WebhookDelivery, WebhookEvent
from shared.privacy.sources import Source, Subject, address_matches, chunks, row_json


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


def export_mails(session: Session, subject: Subject) -> Iterator[dict]:
    """Every mail to the address: kind, comment, status, times, error."""
    for row in session.scalars(
        select(MailLog)
        .where(address_matches(MailLog.to_address, subject.address))
        .order_by(MailLog.id)
    ):
        yield row_json(row)


def erase_mails(session: Session, subject: Subject) -> dict[str, int]:
    """Delete them (a mail not sent yet is then never sent)."""
    result = session.execute(
        delete(MailLog).where(address_matches(MailLog.to_address, subject.address))
    )
    return {"mails_deleted": result.rowcount or 0}


def export_mail_opt_out(session: Session, subject: Subject) -> Iterator[dict]:
    """Whether the address unsubscribed (only its hash is stored)."""
    from shared.mail.optout import address_hash

    row = session.get(MailOptOut, address_hash(subject.address))
    if row is not None:
        yield row_json(row)


def export_webhook_deliveries(session: Session, subject: Subject) -> Iterator[dict]:
    """Deliveries of events of their comments: to which endpoint, status, answers."""
    for ids in chunks(subject.comment_ids):
        for row in session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.comment_id.in_(ids))
            .order_by(WebhookDelivery.id)
        ):
            yield row_json(row)


def export_webhook_events(session: Session, subject: Subject) -> Iterator[dict]:
    """Events of their comments kept for webhook replays."""
    for ids in chunks(subject.comment_ids):
        for row in session.scalars(
            select(WebhookEvent).where(WebhookEvent.comment_id.in_(ids)).order_by(WebhookEvent.id)
        ):
            yield row_json(row)


def export_imports(session: Session, subject: Subject) -> Iterator[dict]:
    """Which export (WordPress, Disqus) each imported comment came from."""
    for ids in chunks(subject.comment_ids):
        for row in session.scalars(
            select(ImportedComment).where(ImportedComment.comment_id.in_(ids))
        ):
            yield row_json(row)


LINKED: tuple[Source, ...] = (
    Source("reports_received", "moderation", export_reports_received, erase_reports),
    Source("reports_made", "moderation", export_reports_made),
    Source("mails", "moderation", export_mails, erase_mails),
    Source("mail_opt_out", "moderation", export_mail_opt_out),
    Source("webhook_deliveries", "moderation", export_webhook_deliveries),
    Source("webhook_events", "moderation", export_webhook_events),
    Source("imports", "moderation", export_imports),
)
