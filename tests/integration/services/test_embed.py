"""GET /embed.js and what the widget needs of the API across origins (docs/contract.md §3)."""

from __future__ import annotations

from services.api import create_app
from services.api.embed import WIDGET

SITE = "https://news.example"


def test_embed_js_is_served_as_javascript_cacheable_and_revalidated(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == WIDGET.read_bytes()
    assert "Set-Cookie" not in response.headers
    again = client.get("/embed.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_preflight_allows_the_widgets_headers_and_nothing_else(make_container, article):
    client = create_app(make_container(cors_origins=(SITE,))).test_client()

    def preflight(path: str, headers: str, origin: str = SITE, method: str = "POST"):
        return client.options(
            path,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": headers,
            },
        )

    ok = preflight(
        f"/api/v1/articles/{article}/comments", "content-type, idempotency-key, commenter-token"
    )
    assert ok.headers["Access-Control-Allow-Origin"] == SITE
    allowed = {h.strip().lower() for h in ok.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"content-type", "idempotency-key", "commenter-token"}
    assert ok.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in ok.headers
    # a header the widget does not send is not allowed; nor another method, nor another origin
    other = preflight(f"/api/v1/articles/{article}/comments", "authorization")
    assert "Access-Control-Allow-Headers" not in other.headers
    put = preflight(f"/api/v1/articles/{article}/comments", "content-type", method="PUT")
    assert "PUT" not in put.headers.get("Access-Control-Allow-Methods", "")
    evil = preflight(f"/api/v1/articles/{article}/comments", "content-type", "https://evil.example")
    assert "Access-Control-Allow-Origin" not in evil.headers
    # reports from the widget; the status of a comment and the admin API are not opened
    report = preflight("/api/v1/comments/abc123/reports", "content-type, commenter-token")
    assert report.headers["Access-Control-Allow-Origin"] == SITE
    status = client.get("/api/v1/comments/abc123", headers={"Origin": SITE})
    assert "Access-Control-Allow-Origin" not in status.headers
    admin = preflight("/api/v1/admin/comments", "authorization", method="GET")
    assert "Access-Control-Allow-Origin" not in admin.headers
    # the widget reads Retry-After (429, 503) across origins
    token = client.get(f"/api/v1/articles/{article}/form-token", headers={"Origin": SITE})
    assert token.headers["Access-Control-Allow-Origin"] == SITE
    assert "Retry-After" in token.headers["Access-Control-Expose-Headers"]


def test_widget_fields_the_api_does_not_know_are_ignored(client, article):
    """The widget sends article_url and article_title on every comment (for issue 25's
    registration of articles): a known article takes them without complaint."""
    body = {
        "author_name": "Ayşe",
        "author_email": "ayse@example.org",
        "content": "From the widget",
        "article_url": "https://news.example/istanbul-talks",
        "article_title": "Istanbul talks",
    }
    response = client.post(f"/api/v1/articles/{article}/comments", json=body)
    assert response.status_code == 202, response.text


def test_the_article_says_whether_commenters_may_ask_for_mail(make_container, client, article):
    """The widget offers its "notify" box only when Parley sends mail."""
    assert client.get(f"/api/v1/articles/{article}").get_json()["notify"] is False
    mailing = create_app(make_container(smtp_url="smtp://127.0.0.1:2525")).test_client()
    body = mailing.get(f"/api/v1/articles/{article}").get_json()
    assert body["notify"] is True and body["slug"] == article
