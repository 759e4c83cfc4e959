"""Export and erasure of one address (docs/contract.md §4, issue 26 item 3) on every
backend: SQLite and PostgreSQL, one database or the two stores apart.

One author writes a comment in each status; another reader replies to the published one
and writes one of their own. Everything is done through the real handlers (intake,
pipeline, moderators' actions, publishing) and read back from the stores and the stream.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared import events
from shared.db import session_scope
from shared.models import AuditLog, Comment, CommentHistory, ListEntry, PublishedComment
from shared.models.moderation_store import EventOutbox, TrainingExample
from shared.moderation import actions, lists, pipeline
from shared.privacy.erase import erase_author
from shared.privacy.export import export_author
from tests.support.factories import LINKS, open_article, status_of, submit_in_process

SLUG = "istanbul-talks"
ADDRESS = "Ayse.Privacy@example.org"  # as stored: the local part as typed
MODERATOR = "mod@news.example"


def export(container, address: str = ADDRESS) -> dict:
    import json

    return json.loads(b"".join(export_author(container, address, "tester")))


def author_comment(container, content: str, ip: str = "203.0.113.7", **fields) -> str:
    return submit_in_process(
        container,
        SLUG,
        content,
        name="Ayşe Privacy",
        email=ADDRESS,
        ip=ip,
        user_agent="Mozilla/5.0 (Ayşe's laptop)",
        referrer="https://news.example/istanbul-talks?utm=mail",
        author_url="https://ayse.example",
        **fields,
    )


def world(container) -> dict[str, str]:
    """The author's comments in every status, and another reader's: {name: id}."""
    open_article(container.stores, SLUG, "Istanbul talks", "https://news.example/talks")
    ids = {}
    ids["published"] = author_comment(container, "A measured, thoughtful comment.")
    ids["held"] = author_comment(container, f"{LINKS} (held one)")
    ids["spam"] = author_comment(container, f"{LINKS} (spam one)")
    ids["rejected"] = author_comment(container, f"{LINKS} (rejected one)")
    ids["received"] = author_comment(container, "Not checked yet, still waiting.", ip="203.0.113.8")
    for name in ("published", "held", "spam", "rejected"):
        pipeline.check_comment(container, ids[name])
    actions.moderate(container, ids["spam"], "spam", MODERATOR, "link farm")
    actions.moderate(container, ids["rejected"], "reject", MODERATOR)
    ids["reply"] = submit_in_process(
        container,
        SLUG,
        "I disagree with the comment above.",
        name="Other Reader",
        email="other@example.org",
        parent_id=ids["published"],
    )
    ids["other"] = submit_in_process(
        container, SLUG, "Something else entirely.", name="Other Reader", email="other@example.org"
    )
    pipeline.check_comment(container, ids["reply"])
    pipeline.check_comment(container, ids["other"])
    assert status_of(container, ids["published"]) == "published"
    assert status_of(container, ids["reply"]) == "published"
    assert status_of(container, ids["held"]) == "held"
    assert status_of(container, ids["spam"]) == "spam"
    assert status_of(container, ids["rejected"]) == "rejected"
    assert status_of(container, ids["received"]) == "received"
    with session_scope(container.stores.moderation) as session:
        lists.add_list_entry(session, "trusted_author", ADDRESS.lower(), "admin@news.example")
        lists.add_list_entry(session, "blocked_email", ADDRESS.upper(), "admin@news.example")
    return ids


def comment(container, cid: str) -> Comment:
    with container.stores.moderation_read() as session:
        return session.get(Comment, cid)


def public(container) -> dict[str, PublishedComment]:
    with container.stores.articles_read() as session:
        return {row.id: row for row in session.scalars(sa.select(PublishedComment))}


def test_export_holds_every_status_with_private_fields(make_container, backend):
    container = make_container()
    ids = world(container)
    body = export(container, "  ayse.privacy@EXAMPLE.ORG ")
    assert body["address"].lower() == ADDRESS.lower()
    by_id = {c["id"]: c for c in body["comments"]}
    mine = {ids[k] for k in ("published", "held", "spam", "rejected", "received")}
    assert set(by_id) == mine  # not the other reader's
    assert {c["status"] for c in body["comments"]} == {
        "published",
        "held",
        "spam",
        "rejected",
        "received",
    }
    held = by_id[ids["held"]]
    assert held["user_ip"] == "203.0.113.7" and held["author_email"] == ADDRESS
    assert held["user_agent"] == "Mozilla/5.0 (Ayşe's laptop)"
    assert held["referrer"].startswith("https://news.example/")
    assert held["author_url"] == "https://ayse.example"
    assert held["history"] and held["history"][-1]["to_status"] == "held"
    assert [h["action"] for h in by_id[ids["spam"]]["history"]][-1] == "spam"
    assert [p["id"] for p in body["published_comments"]] == [ids["published"]]
    assert [t["comment_id"] for t in body["training_examples"]] == [ids["spam"]]
    assert {(e["kind"], e["value"]) for e in body["list_entries"]} == {
        ("trusted_author", ADDRESS.lower()),
        ("blocked_email", ADDRESS.lower()),
    }
    assert len(body["audit_log"]) == 2  # the two list.add
    assert body["moderator_account"] == []
    with container.stores.moderation_read() as session:
        audited = session.scalars(sa.select(AuditLog).where(AuditLog.action == "author.export"))
        entry = audited.one()
    assert entry.actor == "tester" and entry.detail == {"comments": 5}
    assert "ayse" not in str(entry.detail).lower() and entry.target is None


def test_export_of_an_unknown_address_has_empty_lists(make_container, backend):
    container = make_container()
    world(container)
    body = export(container, "nobody@example.org")
    lists_ = {k: v for k, v in body.items() if k not in ("address", "exported_at")}
    assert lists_ and all(v == [] for v in lists_.values()), lists_


def assert_erased(container, ids, *, anonymised: bool):
    for name in ("held", "spam", "rejected", "received"):
        row = comment(container, ids[name])
        assert row.status == "erased", name
        assert row.content == "" and row.author_email == "" and row.user_ip == ""
        assert row.author_name == "deleted" and row.author_url is None
        assert row.user_agent is None and row.referrer is None and row.author_key is None
        assert all(set(r) <= {"rule", "score", "trial"} for r in row.reasons)
    pub = comment(container, ids["published"])
    assert pub.author_email == "" and pub.user_ip == "" and pub.author_name == "deleted"
    if anonymised:
        assert pub.status == "published" and pub.content == "A measured, thoughtful comment."
    else:
        assert pub.status == "erased" and pub.content == ""
    for name in ("reply", "other"):
        row = comment(container, ids[name])
        assert row.status == "published" and row.author_name == "Other Reader"
        assert row.user_ip and row.author_email == "other@example.org"
    shown = public(container)
    assert ids["reply"] in shown and shown[ids["reply"]].parent_id == ids["published"]
    if anonymised:
        assert shown[ids["published"]].author_name == "deleted"
        assert shown[ids["published"]].author_url is None
        assert shown[ids["published"]].content == "A measured, thoughtful comment."
    else:
        assert ids["published"] not in shown
    with container.stores.moderation_read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TrainingExample)) == 0
        entries = {(e.kind, e.value) for e in session.scalars(sa.select(ListEntry))}
        assert ("trusted_author", ADDRESS.lower()) not in entries
        assert ("blocked_email", ADDRESS.lower()) in entries  # a block stays
        audited = {
            (a.target, a.detail.get("value"))
            for a in session.scalars(sa.select(AuditLog).where(AuditLog.action == "list.add"))
        }
        # The trusted entry's record loses the address; the kept block's keeps it.
        assert audited == {("trusted_author", "(erased)"), ("blocked_email", ADDRESS.lower())}
        still = session.scalars(
            sa.select(Comment.id).where(sa.func.lower(Comment.author_email) == ADDRESS.lower())
        ).all()
        assert still == []


def erasure_events(redis_client) -> list[tuple[str, str]]:
    return [
        (fields["type"], fields["comment_id"])
        for _, fields in redis_client.xrange(events.STREAM)
        if fields["type"] in ("comment.erased", "comment.unpublished")
    ]


def test_erase_deletes_published_and_scrubs_everything(make_container, backend, redis_client):
    container = make_container()
    ids = world(container)
    done = erase_author(container, ADDRESS.upper(), "delete", "dpo@news.example").as_json()
    assert (
        done.items()
        >= {
            "comments_erased": 5,
            "published_removed": 1,
            "published_anonymised": 0,
            "training_examples_deleted": 1,
            "list_entries_removed": 1,
            "list_entries_kept": 1,
            "audit_entries_scrubbed": 1,
        }.items()
    )
    assert_erased(container, ids, anonymised=False)
    got = erasure_events(redis_client)
    mine = [ids[k] for k in ("published", "held", "spam", "rejected", "received")]
    assert sorted(cid for t, cid in got if t == "comment.erased") == sorted(mine)
    assert [cid for t, cid in got if t == "comment.unpublished"] == [ids["published"]]
    unpub = got.index(("comment.unpublished", ids["published"]))
    assert unpub < got.index(("comment.erased", ids["published"]))
    with container.stores.moderation_read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(EventOutbox)) == 0
        erase_rows = session.scalars(
            sa.select(CommentHistory).where(CommentHistory.action == "erase")
        ).all()
        assert {h.comment_id for h in erase_rows} == set(mine)
        assert {h.actor for h in erase_rows} == {"dpo@news.example"}
        assert {(h.from_status, h.to_status) for h in erase_rows} >= {("published", "erased")}
        audit = session.scalars(sa.select(AuditLog).where(AuditLog.action == "author.erase")).one()
    assert audit.actor == "dpo@news.example" and audit.detail["comments_erased"] == 5
    assert audit.target is None and ADDRESS.lower() not in str(audit.detail).lower()
    # The activity log shows who erased what.
    from shared.moderation.activity import ActivityFilters, activity

    with container.stores.moderation_read() as session:
        items, _ = activity(session, ActivityFilters(actor="dpo@news.example"))
    assert {i.action for i in items} == {"erase", "author.erase"}


def test_erase_anonymises_published_when_asked(make_container, backend, redis_client):
    container = make_container()
    ids = world(container)
    done = erase_author(container, ADDRESS, "anonymise", "dpo@news.example").as_json()
    assert (done["comments_erased"], done["published_removed"], done["published_anonymised"]) == (
        5,
        0,
        1,
    )
    assert_erased(container, ids, anonymised=True)
    got = erasure_events(redis_client)
    assert ("comment.erased", ids["published"]) in got
    assert ("comment.unpublished", ids["published"]) not in got


def test_erase_again_finds_nothing_and_keeps_the_result(make_container, backend):
    container = make_container()
    ids = world(container)
    erase_author(container, ADDRESS, "delete", "dpo@news.example")
    again = erase_author(container, ADDRESS, "delete", "dpo@news.example").as_json()
    assert again["comments_erased"] == again["published_removed"] == 0
    assert_erased(container, ids, anonymised=False)
    assert export(container)["comments"] == []


def test_a_crash_after_the_article_store_is_finished_by_a_rerun(make_container, backend):
    """Step 1 done (the public copy gone), the moderation store untouched (the process
    died before its transaction committed): a re-run finds the comments by address and
    finishes, with the true counts."""
    from shared.privacy import erase

    container = make_container()
    ids = world(container)
    with container.stores.moderation_read() as session:
        planned = erase._plan(session, ADDRESS, "delete")
    with session_scope(container.stores.articles) as session:
        erase.apply_to_articles(session, planned)
    assert ids["published"] not in public(container)
    assert comment(container, ids["published"]).author_email == ADDRESS
    done = erase_author(container, ADDRESS, "delete", "dpo@news.example").as_json()
    assert (done["comments_erased"], done["published_removed"]) == (5, 1)
    assert_erased(container, ids, anonymised=False)


def test_a_publication_racing_the_erasure_is_taken_back(make_container, backend):
    """A worker that read an approved comment before its erasure publishes it after the
    article store was cleared: the erasure's last step removes it again."""
    from shared.privacy import erase

    container = make_container()
    ids = world(container)
    with container.stores.moderation_read() as session:
        planned = erase._plan(session, ADDRESS, "delete")
    outbox = erase.Outbox()
    with session_scope(container.stores.articles) as session:
        erase.apply_to_articles(session, planned)
        session.add(
            PublishedComment(
                id=ids["held"],
                article_slug=SLUG,
                author_name="Ayşe Privacy",
                content="late",
                published_at=comment(container, ids["held"]).created_at,
            )
        )
    with session_scope(container.stores.moderation) as session:
        done = erase.erase_in_moderation_store(session, ADDRESS, "delete", "dpo", outbox)
    with session_scope(container.stores.articles) as session:
        erase.apply_to_articles(session, done)
    assert ids["held"] not in public(container)


def test_a_publisher_that_read_the_comment_before_its_erasure_publishes_nothing(
    make_container, backend
):
    """An approved comment's publisher read it, then the erasure ran to the end: the
    publisher's move fails, and no public row of the erased comment stays (one database:
    the move comes first; two: the row it put in is taken back)."""
    from shared.moderation import publishing

    container = make_container()
    ids = world(container)
    with session_scope(container.stores.moderation) as session:
        session.execute(
            sa.update(Comment).where(Comment.id == ids["held"]).values(status="approved")
        )
    stale = comment(container, ids["held"])
    erase_author(container, ADDRESS, "delete", "dpo@news.example")
    assert publishing.publish_loaded(container, stale) is False
    assert ids["held"] not in public(container)
    assert comment(container, ids["held"]).status == "erased"


def test_two_erasures_at_once_erase_each_comment_once(make_container, backend, redis_client):
    """Two admins erase the same address at the same moment: the rows are locked (or the
    database's one writer waits), so each comment is erased by exactly one of them, with
    one history line and one comment.erased event."""
    from concurrent.futures import ThreadPoolExecutor

    container = make_container()
    ids = world(container)
    with ThreadPoolExecutor(2) as pool:
        done = list(
            pool.map(
                lambda actor: erase_author(container, ADDRESS, "delete", actor).as_json(),
                ["first@news.example", "second@news.example"],
            )
        )
    assert sorted(d["comments_erased"] for d in done) == [0, 5]
    assert_erased(container, ids, anonymised=False)
    with container.stores.moderation_read() as session:
        lines = session.scalars(
            sa.select(CommentHistory.comment_id).where(CommentHistory.action == "erase")
        ).all()
    assert sorted(lines) == sorted(
        ids[k] for k in ("published", "held", "spam", "rejected", "received")
    )
    events.relay_pending(container)
    erased = [cid for t, cid in erasure_events(redis_client) if t == "comment.erased"]
    assert len(erased) == len(set(erased)) == 5
