"""Export and erasure reach the mail tables (shared.privacy.linked): the mail log's rows to
the address go (one not sent yet is then never sent), mails to others stay, the opt-out
(a hash) stays so the person still gets no mail, and the comments no longer ask for mail
(``notify``); SQLite and PostgreSQL."""

from __future__ import annotations

import json

import sqlalchemy as sa

from shared.db import session_scope
from shared.mail import optout
from shared.models import Comment, MailLog
from shared.moderation import pipeline
from shared.privacy.erase import erase_author
from shared.privacy.export import export_author
from tests.support.factories import open_article, submit_in_process

SLUG = "istanbul-talks"
ADDRESS = "mailed@example.org"


def export(container) -> dict:
    return json.loads(b"".join(export_author(container, ADDRESS, "tester")))


def world(container) -> str:
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    mine = submit_in_process(container, SLUG, "Tell me about replies.", email=ADDRESS, notify=True)
    pipeline.check_comment(container, mine)
    with session_scope(container.stores.moderation) as session:
        session.add_all(
            [
                MailLog(
                    key=f"published:{mine}",
                    kind="published",
                    to_address="Mailed@Example.org",
                    comment_id=mine,
                    status="sent",
                ),
                MailLog(
                    key=f"reply:{mine}x",
                    kind="reply",
                    to_address=ADDRESS,
                    comment_id=mine,
                    status="retry",
                ),
                MailLog(
                    key="reply:other",
                    kind="reply",
                    to_address="else@example.org",
                    comment_id=mine,
                    status="pending",
                ),
            ]
        )
        optout.opt_out(session, optout.address_hash(ADDRESS), "link")
    return mine


def test_export_has_the_mails_to_the_address_and_the_opt_out(make_container, backend):
    container = make_container()
    mine = world(container)
    body = export(container)
    assert sorted(m["key"] for m in body["mails"]) == sorted(
        [f"published:{mine}", f"reply:{mine}x"]
    )
    assert [o["source"] for o in body["mail_opt_out"]] == ["link"]
    assert body["comments"][0]["notify"] is True


def test_erase_deletes_the_mails_to_the_address_keeps_the_opt_out(make_container, backend):
    container = make_container()
    mine = world(container)
    done = erase_author(container, ADDRESS, "anonymise", "dpo").as_json()
    assert done["mails_deleted"] == 2
    with container.stores.moderation_read() as session:
        assert [m.to_address for m in session.scalars(sa.select(MailLog))] == ["else@example.org"]
        assert optout.opted_out(session, ADDRESS)
        assert session.get(Comment, mine).notify is False
    body = export(container)
    assert body["mails"] == [] and len(body["mail_opt_out"]) == 1
