"""The check pipeline on a real database, real Redis and the Akismet-compatible server."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from shared.db import session_scope
from shared.models import Comment, utcnow
from shared.moderation import actions, maintenance, pipeline, publishing
from tests.support.factories import open_article, public_ids, submit_in_process

SLUG = "istanbul-talks"


@pytest.fixture
def parley(akismet_container):
    open_article(akismet_container.stores, SLUG, "Talks", "https://news.example/talks")
    return akismet_container


def row(container, comment_id) -> Comment:
    with container.stores.moderation() as session:
        return session.get(Comment, comment_id)


def event_types(redis_client, comment_id) -> list[str]:
    return [
        f["type"] for _, f in redis_client.xrange("parley:events") if f["comment_id"] == comment_id
    ]


@pytest.mark.parametrize(
    "backend", ["sqlite", "sqlite-split", "postgres", "postgres-split"], indirect=True
)
def test_ham_is_published_once_with_reasons_and_events(
    backend, parley, akismet_server, redis_client
):
    cid = submit_in_process(parley, SLUG)
    assert pipeline.check_comment(parley, cid) == "published"
    comment = row(parley, cid)
    assert comment.status == "published" and comment.decision == "published"
    assert comment.akismet["verdict"] == "ham" and comment.akismet["guid"]
    assert comment.published_at and comment.decided_at and comment.lease_until is None
    assert public_ids(parley) == [cid]
    assert event_types(redis_client, cid) == ["comment.received", "comment.published"]
    [sent] = akismet_server.requests_to("comment-check")
    assert (
        sent["form"]["user_ip"] == "198.51.100.4"
        and sent["form"]["permalink"] == "https://news.example/talks"
    )
    # redelivery of both tasks finds nothing to do
    assert pipeline.check_comment(parley, cid) is None
    assert publishing.publish_comment(parley, cid) is False
    assert public_ids(parley) == [cid]
    assert len(akismet_server.requests_to("comment-check")) == 1


def test_akismet_spam_is_never_public(parley, redis_client):
    cid = submit_in_process(parley, SLUG, email="akismet-guaranteed-spam@example.com")
    assert pipeline.check_comment(parley, cid) == "spam"
    assert public_ids(parley) == []
    assert row(parley, cid).akismet["verdict"] == "spam"
    assert event_types(redis_client, cid)[-1] == "comment.spam"


def test_discard_tip_discards(parley):
    cid = submit_in_process(parley, SLUG, content="parley-test-discard buy now")
    assert pipeline.check_comment(parley, cid) == "discarded"
    comment = row(parley, cid)
    assert comment.akismet["pro_tip"] == "discard"


def test_honeypot_discards_without_asking_akismet(parley, akismet_server):
    cid = submit_in_process(parley, SLUG, website="http://bot.example")
    assert pipeline.check_comment(parley, cid) == "discarded"
    assert akismet_server.requests_to("comment-check") == []
    assert row(parley, cid).akismet["verdict"] == "skipped"
    assert row(parley, cid).reasons[0]["rule"] == "honeypot"


def test_heuristics_hold_even_when_akismet_says_ham(parley):
    cid = submit_in_process(
        parley, SLUG, content="See http://a.example/1 and http://b.example/2 and http://c.example/3"
    )
    assert pipeline.check_comment(parley, cid) == "held"
    comment = row(parley, cid)
    assert comment.akismet["verdict"] == "ham"
    assert any(r["rule"] == "links" for r in comment.reasons)
    assert comment.score >= 1.0


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_akismet_outage_holds_then_recheck_publishes(backend, parley, akismet_server, redis_client):
    akismet_server.set(mode="error500")
    cid = submit_in_process(parley, SLUG)
    assert pipeline.check_comment(parley, cid) == "held"
    held = row(parley, cid)
    assert held.akismet["verdict"] == "error" and held.akismet["error"] == "http_5xx"
    assert held.akismet_next_check_at > utcnow()
    assert public_ids(parley) == []
    # not due yet: the recheck does nothing
    assert pipeline.check_comment(parley, cid, recheck=True) is None
    akismet_server.set(mode="normal")
    with session_scope(parley.stores.moderation) as session:
        session.get(Comment, cid).akismet_next_check_at = utcnow() - timedelta(seconds=1)
    assert maintenance.due_rechecks(parley) == [cid]
    assert pipeline.check_comment(parley, cid, recheck=True) == "published"
    assert public_ids(parley) == [cid]
    last = akismet_server.requests_to("comment-check")[-1]
    assert last["form"]["recheck_reason"] == "retry"
    assert row(parley, cid).akismet["rechecks"] == 1
    assert event_types(redis_client, cid) == [
        "comment.received",
        "comment.held",
        "comment.published",
    ]


@pytest.mark.parametrize("mode", ["timeout", "garbage", "invalid", "drop"])
def test_every_akismet_failure_holds(parley, akismet_server, mode):
    akismet_server.set(mode=mode, hang_seconds=2)
    cid = submit_in_process(parley, SLUG)
    assert pipeline.check_comment(parley, cid) == "held"
    assert row(parley, cid).akismet["verdict"] == "error"
    assert public_ids(parley) == []


def test_recheck_gives_up_after_15_days(parley, akismet_server):
    akismet_server.set(mode="error500")
    cid = submit_in_process(parley, SLUG)
    with session_scope(parley.stores.moderation) as session:
        session.get(Comment, cid).created_at = utcnow() - timedelta(days=16)
    assert pipeline.check_comment(parley, cid) == "held"
    comment = actions.load(parley, cid)
    assert comment.akismet_next_check_at is None
    assert "given up" in comment.history[-1].note
    assert maintenance.due_rechecks(parley) == []


def test_no_akismet_key_means_skipped_and_heuristics_decide(make_container):
    parley = make_container()
    open_article(parley.stores, SLUG, "Talks", "https://news.example/talks")
    clean = submit_in_process(parley, SLUG)
    assert pipeline.check_comment(parley, clean) == "published"
    assert row(parley, clean).akismet["verdict"] == "skipped"
    blocked = submit_in_process(parley, SLUG, content="Cheap VIAGRA here")
    assert pipeline.check_comment(parley, blocked) == "spam"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_racing_workers_decide_and_publish_once(backend, parley, akismet_server):
    akismet_server.set(delay_ms=50)
    cid = submit_in_process(parley, SLUG)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(pipeline.check_comment(parley, cid)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == sorted([None] * 7 + ["published"], key=str)
    assert public_ids(parley) == [cid]
    assert len(akismet_server.requests_to("comment-check")) == 1


def test_crashed_check_is_swept_and_finished(parley, redis_client):
    cid = submit_in_process(parley, SLUG)
    redis_client.delete("checks")
    [claimed] = pipeline.claim(parley, [cid])  # a worker claims, then dies
    assert row(parley, cid).status == "checking"
    assert maintenance.sweep(parley)["check"] == 0  # lease still valid
    with session_scope(parley.stores.moderation) as session:
        session.get(Comment, cid).lease_until = utcnow() - timedelta(seconds=1)
    assert maintenance.sweep(parley) == {"announced": 0, "check": 1, "publish": 0, "queued": 1}
    assert redis_client.llen("checks") == 1
    assert pipeline.check_comment(parley, cid) == "published"
    # the dead worker's late record attempt loses: its lease token is stale
    late = pipeline.Judged(claimed, pipeline.Decision("spam", 9, [], "late"), {"verdict": "spam"})
    assert pipeline.record(parley, [late], False) == {}
    assert row(parley, cid).status == "published"


def test_unqueued_comment_is_swept(make_container, parley, redis_client):
    cid = submit_in_process(parley, SLUG)
    redis_client.delete("checks")
    with session_scope(parley.stores.moderation) as session:
        session.get(Comment, cid).created_at = utcnow() - timedelta(minutes=5)
    assert maintenance.sweep(parley)["check"] == 1
    assert redis_client.llen("checks") == 1


def test_approved_but_unpublished_is_swept_to_publish(parley, redis_client):
    cid = submit_in_process(parley, SLUG)
    with session_scope(parley.stores.moderation) as session:
        comment = session.get(Comment, cid)
        comment.status, comment.updated_at = "approved", utcnow() - timedelta(minutes=5)
    assert maintenance.sweep(parley)["publish"] == 1
    assert redis_client.llen("publish") == 1
    assert publishing.publish_comment(parley, cid) is True
    assert public_ids(parley) == [cid]


def test_purge_removes_old_spam_and_discarded(parley):
    ids = [submit_in_process(parley, SLUG, content=f"old {n}") for n in range(3)]
    with session_scope(parley.stores.moderation) as session:
        for cid, status, days in zip(ids, ("spam", "discarded", "spam"), (16, 2, 3), strict=True):
            comment = session.get(Comment, cid)
            comment.status, comment.updated_at = status, utcnow() - timedelta(days=days)
    assert maintenance.purge(parley) == {"spam": 1, "discarded": 1}
    assert (
        row(parley, ids[0]) is None
        and row(parley, ids[1]) is None
        and row(parley, ids[2]) is not None
    )


def test_a_batch_is_claimed_checked_side_by_side_and_recorded_together(
    parley, akismet_server, redis_client
):
    ham = [
        submit_in_process(parley, SLUG, text)
        for text in (
            "Hopeful news from Istanbul.",
            "Families deserve this.",
            "Cautious optimism here.",
        )
    ]
    spam = submit_in_process(parley, SLUG, "Cheap watches parley-test-spam")
    discard = submit_in_process(parley, SLUG, "Worst of the worst parley-test-discard")
    decided = submit_in_process(parley, SLUG, "Decided before the batch arrived.")
    assert pipeline.check_comment(parley, decided) == "published"
    akismet_server.reset()
    akismet_server.set(delay_ms=200)  # long enough that side-by-side calls overlap
    batch = [*ham, spam, decided, discard]
    assert pipeline.check_comments(parley, batch) == [
        "published",
        "published",
        "published",
        "spam",
        None,  # a redelivered or re-queued id finds nothing to claim
        "discarded",
    ]
    assert len(akismet_server.requests_to("comment-check")) == 5
    assert akismet_server.peak_in_flight >= 2
    assert sorted(public_ids(parley)) == sorted([*ham, decided])
    for cid in ham:
        assert event_types(redis_client, cid) == [
            "comment.received",
            "comment.published",
        ]
    assert event_types(redis_client, spam)[-1] == "comment.spam"
    # a second delivery of the whole batch changes nothing
    assert pipeline.check_comments(parley, batch) == [None] * len(batch)
    assert len(akismet_server.requests_to("comment-check")) == 5


def test_one_akismet_failure_in_a_batch_holds_that_comment_alone(parley, akismet_server):
    good = [
        submit_in_process(parley, SLUG, text)
        for text in ("Good news at last.", "Let them come home.")
    ]
    failing = submit_in_process(parley, SLUG, "Akismet chokes on this one parley-test-error")
    assert pipeline.check_comments(parley, [good[0], failing, good[1]]) == [
        "published",
        "held",
        "published",
    ]
    held = row(parley, failing)
    assert held.akismet["verdict"] == "error" and held.akismet_next_check_at is not None
    assert sorted(public_ids(parley)) == sorted(good)


def test_a_batch_records_only_the_comments_whose_lease_it_still_holds(parley, akismet_server):
    ids = [
        submit_in_process(parley, SLUG, text)
        for text in ("First thought.", "Second thought.", "Third.")
    ]
    leases = pipeline.claim(parley, ids)
    # Meanwhile the second one's lease ran out and another worker claimed it.
    with session_scope(parley.stores.moderation) as session:
        session.get(Comment, ids[1]).attempts += 1
    statuses = pipeline.record(parley, pipeline.judge(parley, leases), False)
    assert statuses == {ids[0]: "published", ids[2]: "published"}
    assert row(parley, ids[1]).status == "checking"  # left to the worker that holds it
    assert sorted(public_ids(parley)) == sorted([ids[0], ids[2]])
