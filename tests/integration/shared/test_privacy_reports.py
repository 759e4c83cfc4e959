"""Export and erasure reach readers' reports (shared.privacy.linked): those of the
person's comments, and those they made, found by their IP's keyed hash or their commenter
key; SQLite and PostgreSQL."""

from __future__ import annotations

import json

import sqlalchemy as sa

from shared.models import CommentReport
from shared.moderation import pipeline, reports
from shared.privacy.erase import erase_author
from shared.privacy.export import export_author
from tests.support.factories import open_article, status_of, submit_in_process

SLUG = "istanbul-talks"
ADDRESS = "reports@example.org"
SECRET = "test-secret"  # the test containers' PARLEY_SECRET_KEY


def export(container) -> dict:
    return json.loads(b"".join(export_author(container, ADDRESS, "tester")))


def world(container) -> dict[str, str]:
    """My comment and someone else's, both published; another reader reports mine, I (by
    my IP) report theirs."""
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    ids = {
        "mine": submit_in_process(
            container, SLUG, "My own comment here.", email=ADDRESS, ip="203.0.113.9"
        ),
        "theirs": submit_in_process(
            container, SLUG, "Somebody else wrote this.", email="else@example.org"
        ),
    }
    for cid in ids.values():
        pipeline.check_comment(container, cid)
        assert status_of(container, cid) == "published"
    other = reports.reader_for(SECRET, None, "192.0.2.50")
    reports.file_report(container, ids["mine"], other, "abuse", "rude words")
    me = reports.reader_for(SECRET, None, "203.0.113.9")
    reports.file_report(container, ids["theirs"], me, "spam", "I think this is spam")
    return ids


def test_export_has_reports_received_and_made(make_container, backend):
    container = make_container()
    ids = world(container)
    body = export(container)
    assert [r["comment_id"] for r in body["reports_received"]] == [ids["mine"]]
    assert body["reports_received"][0]["note"] == "rude words"
    assert "reader_key" not in body["reports_received"][0]  # who reported: another reader
    assert [r["comment_id"] for r in body["reports_made"]] == [ids["theirs"]]
    assert body["reports_made"][0]["note"] == "I think this is spam"


def test_erase_deletes_reports_of_erased_comments_and_anonymises_those_made(
    make_container, backend
):
    container = make_container()
    ids = world(container)
    done = erase_author(container, ADDRESS, "delete", "dpo").as_json()
    assert done["reports_deleted"] == 1 and done["reports_made_anonymised"] == 1
    with container.stores.moderation_read() as session:
        left = session.scalars(sa.select(CommentReport)).all()
    assert [r.comment_id for r in left] == [ids["theirs"]]  # it still counts
    assert left[0].note is None
    assert left[0].reader_key != reports.reader_for(SECRET, None, "203.0.113.9").key
    assert export(container)["reports_made"] == []


def test_anonymised_published_comment_keeps_its_reports(make_container, backend):
    container = make_container()
    ids = world(container)
    done = erase_author(container, ADDRESS, "anonymise", "dpo").as_json()
    assert done["reports_deleted"] == 0
    with container.stores.moderation_read() as session:
        kept = session.scalars(
            sa.select(CommentReport.comment_id).where(CommentReport.comment_id == ids["mine"])
        ).all()
    assert kept == [ids["mine"]]
