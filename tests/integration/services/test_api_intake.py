"""Every answer of POST /api/v1/articles/{slug}/comments (docs/contract.md §3), on each backend."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from shared.models import Comment, CommentHistory
from tests.support.factories import ADMIN, GOOD


def comments_in_db(container) -> list[Comment]:
    with container.stores.moderation() as session:
        return list(session.scalars(sa.select(Comment)))


@pytest.mark.parametrize(
    "backend", ["sqlite", "sqlite-split", "postgres", "postgres-split"], indirect=True
)
def test_json_post_is_stored_then_answered_202(backend, client, container, article, redis_client):
    response = client.post(f"/api/v1/articles/{article}/comments", json=GOOD)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["status_url"].endswith(f"/api/v1/comments/{body['id']}")
    [row] = comments_in_db(container)
    assert row.id == body["id"] and row.status == "received"
    assert row.author_email == "ayse@example.org" and row.user_ip == "127.0.0.1"
    assert row.article_permalink == "https://news.example/istanbul-talks"
    # the check task was queued on the "checks" queue (a real Redis list)
    assert redis_client.llen("checks") == 1
    # and the event stream has comment.received
    [(_, fields)] = redis_client.xrange("parley:events")
    assert fields["type"] == "comment.received" and fields["comment_id"] == body["id"]
    assert set(fields) == {"event_id", "type", "comment_id", "article", "at"}
    status = client.get(f"/api/v1/comments/{body['id']}").get_json()
    assert status == {"id": body["id"], "article": article, "status": "pending"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_form_post_redirects_303_to_the_article(backend, client, container, article):
    response = client.post(f"/api/v1/articles/{article}/comments", data=GOOD)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/articles/{article}#comment-pending")
    assert len(comments_in_db(container)) == 1


def test_unknown_article_404(client):
    response = client.post("/api/v1/articles/nope/comments", json=GOOD)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_closed_article_403(client, admin_client, article, container):
    admin_client.put(
        f"/api/v1/admin/articles/{article}",
        json={"title": "t", "url": "https://news.example/x", "comments_open": False},
        headers=ADMIN,
    )
    response = client.post(f"/api/v1/articles/{article}/comments", json=GOOD)
    assert response.status_code == 403
    assert comments_in_db(container) == []


def test_unparseable_json_400(client, article):
    response = client.post(
        f"/api/v1/articles/{article}/comments", data="{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("field", ["author_name", "content"])
def test_lone_surrogate_in_json_400_and_nothing_stored(client, article, container, field):
    # Valid JSON grammar, but no UTF-8 text can hold it: it used to get past the parser
    # and fail in the hash or the store (a 500).
    body = json.dumps(dict(GOOD, **{field: "bad \ud800 text"}))
    assert "\\ud800" in body
    response = client.post(
        f"/api/v1/articles/{article}/comments", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert comments_in_db(container) == []


@pytest.mark.parametrize(
    "body",
    [
        # a form on a page in Latin-1 sends "café" with é as %E9, not as UTF-8's %C3%A9
        b"author_name=Ana&author_email=ana%40example.org&content=Un+caf%E9+au+lait",
        b"author_name=An%FFa&author_email=ana%40example.org&content=Hello+there",
        b"author_name=Ana&author_email=ana%40example.org&content=raw+\xff+byte",
        b"author_name=Ana&author_email=ana%40example.org&cont%E9nt=Hello&content=Hi",
    ],
)
def test_form_that_is_not_utf8_400_and_nothing_stored(client, article, container, body):
    response = client.post(
        f"/api/v1/articles/{article}/comments",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "UTF-8" in response.get_json()["detail"]
    assert comments_in_db(container) == []


def test_form_in_utf8_keeps_its_text(client, article, container):
    body = "author_name=Ayşe&author_email=ayse%40example.org&content=Un+café+au+lait+%E2%98%95"
    response = client.post(
        f"/api/v1/articles/{article}/comments",
        data=body.encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 303
    [row] = comments_in_db(container)
    assert (row.author_name, row.content) == ("Ayşe", "Un café au lait ☕")


def test_json_that_is_not_an_object_400(client, article):
    response = client.post(f"/api/v1/articles/{article}/comments", json=["a"])
    assert response.status_code == 400


def test_other_content_type_415(client, article):
    response = client.post(
        f"/api/v1/articles/{article}/comments", data="hello", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_body_over_64k_413(client, article, container):
    big = dict(GOOD, content="x" * (65 * 1024))
    response = client.post(f"/api/v1/articles/{article}/comments", json=big)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert comments_in_db(container) == []


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"author_name": "   "}, "author_name"),
        ({"author_name": "x" * 101}, "author_name"),
        ({"author_name": "bad\x07name"}, "author_name"),
        ({"author_email": "not-an-email"}, "author_email"),
        ({"author_email": ("a" * 250) + "@x.org"}, "author_email"),
        ({"author_url": "javascript:alert(1)"}, "author_url"),
        ({"author_url": "https://x.org/" + "a" * 2048}, "author_url"),
        ({"content": " \n "}, "content"),
        ({"content": "x" * 10_001}, "content"),
        ({"content": "bell\x07"}, "content"),
        ({"content": 42}, "content"),
        ({"parent_id": "0123456789abcdef0123456789abcdef"}, "parent_id"),
    ],
)
def test_field_errors_422(client, article, container, fields, bad):
    response = client.post(f"/api/v1/articles/{article}/comments", json=dict(GOOD, **fields))
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert set(body) >= {"type", "title", "status", "detail", "errors"}
    assert bad in body["errors"] and all(isinstance(m, str) for m in body["errors"][bad])
    assert comments_in_db(container) == []


def test_missing_fields_all_reported(client, article):
    response = client.post(f"/api/v1/articles/{article}/comments", json={})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"author_name", "author_email", "content"}


def test_content_is_nfc_normalised_and_newlines_tabs_kept(client, article, container):
    decomposed = "Cafe\u0301 talks\n\tindented"
    response = client.post(
        f"/api/v1/articles/{article}/comments", json=dict(GOOD, content=decomposed)
    )
    assert response.status_code == 202
    [row] = comments_in_db(container)
    assert row.content == "Café talks\n\tindented"


def test_same_author_same_content_409(client, article, container):
    assert client.post(f"/api/v1/articles/{article}/comments", json=GOOD).status_code == 202
    again = dict(
        GOOD, author_email="AYSE@example.org", content="  The exchange is a hopeful first step.  "
    )
    response = client.post(f"/api/v1/articles/{article}/comments", json=again)
    assert response.status_code == 409
    assert len(comments_in_db(container)) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_idempotency_key_replays_first_answer(backend, client, article, container, redis_client):
    headers = {"Idempotency-Key": "retry-123"}
    first = client.post(f"/api/v1/articles/{article}/comments", json=GOOD, headers=headers)
    second = client.post(f"/api/v1/articles/{article}/comments", json=GOOD, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.get_json() == second.get_json()
    assert len(comments_in_db(container)) == 1
    assert redis_client.llen("checks") == 1


def test_honeypot_filled_is_accepted_and_marked(client, article, container):
    response = client.post(
        f"/api/v1/articles/{article}/comments", json=dict(GOOD, website="http://spam.example")
    )
    assert response.status_code == 202
    [row] = comments_in_db(container)
    assert row.honeypot is True


def test_form_token_age_is_stored(client, article, container):
    token = client.get(f"/api/v1/articles/{article}/form-token").get_json()["form_token"]
    client.post(f"/api/v1/articles/{article}/comments", json=dict(GOOD, form_token=token))
    client.post(
        f"/api/v1/articles/{article}/comments",
        json=dict(GOOD, content="second", form_token="forged.token"),
    )
    rows = {r.content: r for r in comments_in_db(container)}
    assert rows[GOOD["content"]].form_token_status == "valid"
    assert 0 <= rows[GOOD["content"]].form_token_age < 5
    assert rows["second"].form_token_status == "invalid" and rows["second"].form_token_age is None


def test_history_records_receipt(client, article, container):
    client.post(f"/api/v1/articles/{article}/comments", json=GOOD)
    with container.stores.moderation() as session:
        [entry] = session.scalars(sa.select(CommentHistory))
        assert (entry.actor, entry.action, entry.to_status) == ("api", "received", "received")
