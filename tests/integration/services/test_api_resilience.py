"""Durability and limits: Redis down, database down, rate limit and flood (docs/contract.md §3)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from services.api import create_app
from services.dashboard import create_app as create_dashboard
from shared.models import Comment
from shared.moderation import maintenance
from tests.support.factories import ADMIN, GOOD

DOWN_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def post(client, slug, n=0, **headers):
    body = dict(GOOD, content=f"comment number {n}")
    return client.post(f"/api/v1/articles/{slug}/comments", json=body, headers=headers)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_queue_down_still_202_and_row_waits_for_sweeper(
    backend, make_container, article, redis_client
):
    down = make_container(redis_url=DOWN_REDIS, rate_limit="5/minute", flood_seconds=15)
    client = create_app(down).test_client()
    started = time.monotonic()
    response = post(client, article)
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.get_json()
    assert elapsed < 10, "a down queue must not hang the request"
    with down.stores.moderation() as session:
        [row] = session.scalars(sa.select(Comment))
    assert row.id == response.get_json()["id"] and row.status == "received"
    assert row.unannounced, "the failed hand-off is marked for the sweeper"

    # Redis is back: the next sweep writes the lost comment.received event, dated at
    # receipt, and queues the comment at once (it is known never to have been queued).
    up = make_container()
    assert maintenance.sweep(up) == {"announced": 1, "check": 1, "publish": 0, "queued": 1}
    [(_, event)] = redis_client.xrange("parley:events")
    assert (event["type"], event["comment_id"], event["article"]) == (
        "comment.received",
        row.id,
        article,
    )
    assert event["at"] == row.created_at.isoformat().replace("+00:00", "Z")
    assert redis_client.llen("checks") == 1
    with up.stores.moderation() as session:
        assert session.get(Comment, row.id).unannounced is False
    # Announced once: the next sweep neither writes it again nor queues it again.
    assert maintenance.sweep(up) == {"announced": 0, "check": 0, "publish": 0, "queued": 0}
    assert redis_client.xlen("parley:events") == 1


def test_sweep_keeps_the_mark_while_redis_is_down(make_container, article, redis_client):
    down = make_container(redis_url=DOWN_REDIS)
    cid = post(create_app(down).test_client(), article).get_json()["id"]
    assert maintenance.sweep(down)["announced"] == 0
    with down.stores.moderation() as session:
        assert session.get(Comment, cid).unannounced is True
    assert redis_client.xlen("parley:events") == 0


def test_one_sweep_at_a_time_writes_the_events(make_container, article, redis_client):
    # A second sweep (beat's while `parley sweep` runs, say) would read the same flagged
    # rows and write their events twice; it leaves them to the sweep that holds the lock.
    down = make_container(redis_url=DOWN_REDIS)
    cid = post(create_app(down).test_client(), article).get_json()["id"]
    up = make_container()
    other = redis_client.lock(maintenance.ANNOUNCE_LOCK, timeout=30)
    assert other.acquire(blocking=False)
    assert maintenance.sweep(up)["announced"] == 0
    assert redis_client.xlen("parley:events") == 0
    with up.stores.moderation() as session:
        assert session.get(Comment, cid).unannounced is True
    other.release()
    assert maintenance.sweep(up)["announced"] == 1
    assert redis_client.xlen("parley:events") == 1
    assert not redis_client.exists(maintenance.ANNOUNCE_LOCK), "released after the sweep"


def test_database_down_503_with_retry_after(make_container, redis_client):
    # A PostgreSQL URL where no server listens: the store cannot be reached.
    down = make_container(database_url="postgresql://nobody@127.0.0.1:1/none", article_store_url="")
    client = create_app(down).test_client()
    response = client.post("/api/v1/articles/anything/comments", json=GOOD)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert redis_client.llen("checks") == 0
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_rate_limit_429_with_retry_after(make_container, article):
    limited = make_container(rate_limit="3/minute", flood_seconds=0)
    client = create_app(limited).test_client()
    assert [post(client, article, n).status_code for n in range(3)] == [202, 202, 202]
    refused = post(client, article, 99)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_flood_gap_429(make_container, article):
    limited = make_container(rate_limit="off", flood_seconds=15)
    client = create_app(limited).test_client()
    assert post(client, article, 1).status_code == 202
    refused = post(client, article, 2)
    assert refused.status_code == 429
    assert 10 <= int(refused.headers["Retry-After"]) <= 15


def test_only_accepted_comments_count(make_container, article):
    limited = make_container(rate_limit="2/minute", flood_seconds=0)
    client = create_app(limited).test_client()
    for _ in range(5):
        assert client.post(f"/api/v1/articles/{article}/comments", json={}).status_code == 422
    assert post(client, article, 1).status_code == 202


def test_limits_are_per_client_ip_through_trusted_proxies(make_container, article):
    limited = make_container(rate_limit="off", flood_seconds=15, trusted_proxies=1)
    client = create_app(limited).test_client()
    a = post(client, article, 1, **{"X-Forwarded-For": "198.51.100.7"})
    b = post(client, article, 2, **{"X-Forwarded-For": "198.51.100.8"})
    c = post(client, article, 3, **{"X-Forwarded-For": "198.51.100.7"})
    assert (a.status_code, b.status_code, c.status_code) == (202, 202, 429)
    with limited.stores.moderation() as session:
        ips = sorted(session.scalars(sa.select(Comment.user_ip)))
    assert ips == ["198.51.100.7", "198.51.100.8"]


def test_forwarded_for_ignored_without_trusted_proxies(make_container, article):
    limited = make_container(rate_limit="off", flood_seconds=15, trusted_proxies=0)
    client = create_app(limited).test_client()
    assert post(client, article, 1, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 202
    # a spoofed header does not buy a fresh allowance
    assert post(client, article, 2, **{"X-Forwarded-For": "198.51.100.9"}).status_code == 429


def test_idempotent_retry_is_not_rate_limited(make_container, article):
    limited = make_container(rate_limit="off", flood_seconds=15)
    client = create_app(limited).test_client()
    first = post(client, article, 1, **{"Idempotency-Key": "k1"})
    again = post(client, article, 1, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 202
    assert first.get_json()["id"] == again.get_json()["id"]


def test_admin_token_required(admin_client):
    client = admin_client  # the admin API is the dashboard's (docs/contract.md §1)
    body = {"title": "t", "url": "https://news.example/t"}
    assert client.put("/api/v1/admin/articles/a", json=body).status_code == 401
    assert (
        client.put(
            "/api/v1/admin/articles/a", json=body, headers={"Authorization": "Bearer wrong"}
        ).status_code
        == 401
    )
    assert client.put("/api/v1/admin/articles/a", json=body, headers=ADMIN).status_code == 201
    assert client.put("/api/v1/admin/articles/a", json=body, headers=ADMIN).status_code == 200
    bad = client.put("/api/v1/admin/articles/a", json={"title": ""}, headers=ADMIN)
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"title", "url"}
    # An unclosed IPv6 address made the URL parser raise: a 500 until schemathesis found it.
    bad = client.put(
        "/api/v1/admin/articles/a", json={"title": "t", "url": "http://["}, headers=ADMIN
    )
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"url"}


def test_admin_api_refuses_all_without_configured_token(make_container):
    client = create_dashboard(make_container(admin_token=None)).test_client()
    body = {"title": "t", "url": "https://news.example/t"}
    assert (
        client.put(
            "/api/v1/admin/articles/a", json=body, headers={"Authorization": "Bearer "}
        ).status_code
        == 401
    )


def test_cors_allows_only_configured_origins(make_container, article):
    client = create_app(make_container(cors_origins=("https://news.example",))).test_client()
    preflight = client.options(
        f"/api/v1/articles/{article}/comments",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type, Idempotency-Key",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://news.example"
    posted = post(client, article, 1, Origin="https://news.example")
    assert posted.status_code == 202
    assert posted.headers["Access-Control-Allow-Origin"] == "https://news.example"
    other = client.get(f"/api/v1/articles/{article}", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_cors_headers_by_default(client, article):
    response = client.get(f"/api/v1/articles/{article}", headers={"Origin": "https://news.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
