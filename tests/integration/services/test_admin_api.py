"""Admin JSON API (docs/contract.md §4): list, record, actions, 409s and Akismet feedback."""

from __future__ import annotations

import pytest

from services.api import create_app
from services.dashboard import create_app as create_dashboard
from shared.moderation import actions
from tests.support.factories import ADMIN, decided, public_ids


@pytest.fixture
def admin(akismet_container, article):
    """The admin API's client (the dashboard, which serves it, on a container with Akismet);
    it stands in for tests/conftest.py's signed-in dashboard ``admin`` in this module."""
    return create_dashboard(akismet_container).test_client()


@pytest.fixture
def public(akismet_container):
    """The public API on the same container, where readers' comments come in."""
    return create_app(akismet_container).test_client()


def act(client, cid, action, note=None):
    return client.post(
        f"/api/v1/admin/comments/{cid}/actions",
        json={"action": action, "note": note},
        headers=ADMIN,
    )


def test_requires_token(admin, article):
    assert admin.get("/api/v1/admin/comments").status_code == 401
    assert admin.get("/api/v1/admin/comments/x").status_code == 401
    assert (
        admin.post("/api/v1/admin/comments/x/actions", json={"action": "approve"}).status_code
        == 401
    )


def test_full_record(admin, public, akismet_container, article):
    cid = decided(
        akismet_container, public, article, content="Visit http://a.example http://b.example now"
    )
    record = admin.get(f"/api/v1/admin/comments/{cid}", headers=ADMIN).get_json()
    for key in (
        "id",
        "article",
        "status",
        "author_name",
        "author_email",
        "author_url",
        "content",
        "user_ip",
        "user_agent",
        "referrer",
        "created_at",
        "decided_at",
        "published_at",
        "score",
        "reasons",
        "akismet",
        "history",
    ):
        assert key in record
    assert record["status"] == "held"
    assert {"rule", "score", "detail"} <= set(record["reasons"][0])
    assert record["akismet"]["verdict"] == "ham"
    assert [h["action"] for h in record["history"]] == ["received", "check"]
    assert set(record["history"][0]) == {"at", "actor", "action", "from", "to", "note"}
    assert admin.get("/api/v1/admin/comments/nope", headers=ADMIN).status_code == 404


def test_list_filters_and_pages(admin, public, akismet_container, article):
    held = decided(
        akismet_container, public, article, content="Visit http://a.example http://b.example now"
    )
    published = decided(akismet_container, public, article, content="A calm and kind remark.")
    body = admin.get("/api/v1/admin/comments?status=held", headers=ADMIN).get_json()
    assert [c["id"] for c in body["comments"]] == [held] and body["next_cursor"] is None
    all_ids = []
    cursor = ""
    while True:
        page = admin.get(
            f"/api/v1/admin/comments?limit=1&article={article}&cursor={cursor}", headers=ADMIN
        ).get_json()
        all_ids += [c["id"] for c in page["comments"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(all_ids) == sorted([held, published])
    assert admin.get("/api/v1/admin/comments?status=bogus", headers=ADMIN).status_code == 422
    assert admin.get("/api/v1/admin/comments?limit=x", headers=ADMIN).status_code == 422


def test_approve_held_publishes_and_history_records_actor(
    admin, public, akismet_container, article, redis_client
):
    cid = decided(
        akismet_container, public, article, content="Visit http://a.example http://b.example now"
    )
    response = admin.post(
        f"/api/v1/admin/comments/{cid}/actions",
        json={"action": "approve", "note": "fine"},
        headers=dict(ADMIN, **{"X-Parley-Actor": "mod@news.example"}),
    )
    assert response.status_code == 200
    record = response.get_json()
    assert record["status"] == "published" and public_ids(akismet_container) == [cid]
    entry = [h for h in record["history"] if h["action"] == "approve"][0]
    assert (entry["actor"], entry["from"], entry["to"], entry["note"]) == (
        "mod@news.example",
        "held",
        "approved",
        "fine",
    )
    assert act(admin, cid, "approve").status_code == 409
    # unpublish: the comment leaves the article store and an event says so
    assert act(admin, cid, "reject").get_json()["status"] == "rejected"
    assert public_ids(akismet_container) == []
    types = [f["type"] for _, f in redis_client.xrange("parley:events") if f["comment_id"] == cid]
    assert types[-2:] == ["comment.unpublished", "comment.rejected"]
    assert act(admin, cid, "approve").status_code == 409


def test_bad_action_422_and_unknown_404(admin, article):
    assert (
        admin.post(
            "/api/v1/admin/comments/x/actions", json={"action": "delete"}, headers=ADMIN
        ).status_code
        == 422
    )
    assert act(admin, "nope", "approve").status_code == 404


def test_corrections_go_back_to_akismet_with_submitter_data(
    admin, public, akismet_container, akismet_server, article, redis_client
):
    spam = decided(
        akismet_container, public, article, author_email="akismet-guaranteed-spam@example.com"
    )
    ham = decided(akismet_container, public, article, content="Another calm remark.")
    assert act(admin, spam, "approve").status_code == 200
    assert act(admin, ham, "spam").status_code == 200
    # the feedback tasks were queued on their own queue …
    assert redis_client.llen("feedback") == 2
    # … and, run by a worker, they send the original submitter's data
    assert actions.send_feedback(akismet_container, spam, "ham") is True
    assert actions.send_feedback(akismet_container, ham, "spam") is True
    [submit_ham] = akismet_server.requests_to("submit-ham")
    [submit_spam] = akismet_server.requests_to("submit-spam")
    for sent in (submit_ham, submit_spam):
        assert sent["form"]["user_ip"] == "127.0.0.1"
        assert sent["form"]["user_agent"] == "Werkzeug/3.1.9"
    assert submit_ham["form"]["comment_author_email"] == "akismet-guaranteed-spam@example.com"
    record = admin.get(f"/api/v1/admin/comments/{spam}", headers=ADMIN).get_json()
    assert record["history"][-1]["action"] == "akismet_submit_ham"


def test_no_feedback_when_moderator_agrees_with_akismet(
    admin, public, akismet_container, article, redis_client
):
    cid = decided(
        akismet_container, public, article, content="Visit http://a.example http://b.example now"
    )
    assert act(admin, cid, "reject").status_code == 200
    assert redis_client.llen("feedback") == 0
