"""Public reads, the demo page and the service endpoints (docs/contract.md §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.db import session_scope
from shared.models import PublishedComment
from tests.support.factories import GOOD


def publish(container, slug, n, content=None, parent_id=None, start=0):
    """Put comments straight into the article store, as the publisher does."""
    base = datetime(2026, 11, 1, tzinfo=UTC)
    ids = []
    with session_scope(container.stores.articles) as session:
        for i in range(start, start + n):
            row = PublishedComment(
                id=f"{i:032x}",
                article_slug=slug,
                parent_id=parent_id,
                author_name=f"Reader {i}",
                author_url=None,
                content=content or f"comment {i}",
                published_at=base + timedelta(minutes=i),
            )
            session.add(row)
            ids.append(row.id)
    return ids


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_published_list_pages_oldest_first(backend, client, container, article):
    ids = publish(container, article, 7)
    seen, cursor = [], None
    while True:
        url = f"/api/v1/articles/{article}/comments?limit=3" + (
            f"&cursor={cursor}" if cursor else ""
        )
        body = client.get(url).get_json()
        assert body["article"] == article and len(body["comments"]) <= 3
        seen += [c["id"] for c in body["comments"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    first = client.get(f"/api/v1/articles/{article}/comments").get_json()["comments"][0]
    assert set(first) == {"id", "parent_id", "author_name", "author_url", "content", "published_at"}
    assert first["published_at"] == "2026-11-01T00:00:00Z"


def test_list_limit_is_capped_and_validated(client, container, article):
    publish(container, article, 105)
    assert (
        len(client.get(f"/api/v1/articles/{article}/comments?limit=500").get_json()["comments"])
        == 100
    )
    assert client.get(f"/api/v1/articles/{article}/comments?limit=abc").status_code == 422
    assert client.get(f"/api/v1/articles/{article}/comments?limit=0").status_code == 422
    assert client.get(f"/api/v1/articles/{article}/comments?cursor=%%%").status_code == 422
    assert client.get("/api/v1/articles/nope/comments").status_code == 404


def test_etag_and_304(client, container, article):
    publish(container, article, 2)
    first = client.get(f"/api/v1/articles/{article}/comments")
    etag = first.headers["ETag"]
    assert (
        client.get(
            f"/api/v1/articles/{article}/comments", headers={"If-None-Match": etag}
        ).status_code
        == 304
    )
    publish(container, article, 1, content="new", start=2)
    changed = client.get(f"/api/v1/articles/{article}/comments", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_article_and_count(client, container, article):
    publish(container, article, 2)
    body = client.get(f"/api/v1/articles/{article}").get_json()
    assert body == {
        "slug": article,
        "title": "Istanbul talks",
        "url": "https://news.example/istanbul-talks",
        "comments_open": True,
        "comment_count": 2,
        "notify": False,  # no PARLEY_SMTP_URL: no mail to ask for
    }
    assert client.get("/api/v1/articles/nope").status_code == 404
    assert client.get("/api/v1/articles/nope/form-token").status_code == 404


def test_reply_to_published_comment(client, container, article):
    [parent] = publish(container, article, 1)
    ok = client.post(f"/api/v1/articles/{article}/comments", json=dict(GOOD, parent_id=parent))
    assert ok.status_code == 202


def test_unknown_comment_404(client):
    assert client.get("/api/v1/comments/doesnotexist").status_code == 404


def test_openapi_describes_every_public_path(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/articles/{slug}/comments",
        "/api/v1/articles/{slug}",
        "/api/v1/articles/{slug}/form-token",
        "/api/v1/comments/{id}",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"]
    codes = set(spec["paths"]["/api/v1/articles/{slug}/comments"]["post"]["responses"])
    assert codes == {"202", "303", "400", "403", "404", "409", "413", "415", "422", "429", "503"}


def test_health_and_ready(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "article_store": "ok", "redis": "ok"}


def test_article_page_escapes_and_has_a_working_form(client, container, article):
    publish(container, article, 1, content='<script>alert("x")</script> & <b>bold</b>')
    page = client.get(f"/articles/{article}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert f'action="/api/v1/articles/{article}/comments"' in html
    assert 'name="form_token"' in html and 'name="website"' in html
    assert 'id="comment-pending"' in html and "awaiting moderation" in html
    # The one script is the comments widget, from this origin; no inline script runs.
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert html.count("<script") == 1 and '<script src="/embed.js" async></script>' in html
    assert client.get("/articles/nope").status_code == 404


def test_browser_form_errors_reshow_the_page(client, container, article):
    response = client.post(
        f"/api/v1/articles/{article}/comments",
        data={"author_name": "Ann", "author_email": "bad", "content": "kept text"},
        headers={"Accept": "text/html"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "kept text" in html and "valid e-mail" in html


def test_front_page_shows_demo_or_list(client, container):
    html = client.get("/").get_data(as_text=True)
    assert "No articles yet" in html


def test_front_page_shows_the_seeded_demo_article(client, container):
    from shared.articles import DEMO_ARTICLE, DEMO_SLUG, upsert_article

    with session_scope(container.stores.articles) as session:
        upsert_article(session, DEMO_SLUG, DEMO_ARTICLE)
    publish(container, DEMO_SLUG, 1, content="First!")
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Peace Talks Breakthrough" in html and "Istanbul" in html and "First!" in html
