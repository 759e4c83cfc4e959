"""Per-article moderation mode (issue 25 item 4, docs/contract.md §4): auto, premoderate
and closed through the admin API and the dashboard's Articles page, and the check
honouring the mode of the article as it is when the comment is decided."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.accounts import AuditLog
from shared.models import Article, Comment
from shared.moderation import pipeline
from tests.support.factories import ADMIN, GOOD, public_ids, put_article, status_of, submit

SLUG = "istanbul-talks"
BODY = {"title": "Istanbul talks", "url": "https://news.example/istanbul-talks"}


@pytest.fixture
def api(dash_app):
    return dash_app.test_client()


def article_of(api, slug: str = SLUG) -> dict:
    response = api.get(f"/api/v1/admin/articles/{slug}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.get_json()


def stored(container, slug: str = SLUG) -> tuple[str, bool]:
    with container.stores.articles() as session:
        article = session.get(Article, slug)
        return article.moderation, article.comments_open


def comment(container, cid: str) -> Comment:
    with container.stores.moderation() as session:
        return session.get(Comment, cid)


def test_moderation_defaults_to_auto_and_is_in_the_admin_reads(api, backend):
    response = put_article(api, SLUG, **BODY)
    assert response.status_code == 201
    assert response.get_json()["moderation"] == "auto"
    assert response.get_json()["comments_open"] is True
    assert article_of(api)["moderation"] == "auto"
    listed = api.get("/api/v1/admin/articles", headers=ADMIN).get_json()
    assert [(a["slug"], a["moderation"]) for a in listed["articles"]] == [(SLUG, "auto")]
    assert api.get("/api/v1/admin/articles", headers={}).status_code == 401
    assert api.get(f"/api/v1/admin/articles/{SLUG}").status_code == 401
    assert api.get("/api/v1/admin/articles/nope", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    "fields, mode, open_",
    [
        ({"moderation": "premoderate"}, "premoderate", True),
        ({"moderation": "closed"}, "closed", False),
        ({"comments_open": False}, "closed", False),
        ({"moderation": "auto", "comments_open": True}, "auto", True),
        ({"moderation": "closed", "comments_open": False}, "closed", False),
    ],
)
def test_closed_and_comments_open_say_the_same(api, container, fields, mode, open_):
    response = put_article(api, SLUG, **BODY, **fields)
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert (body["moderation"], body["comments_open"]) == (mode, open_)
    assert stored(container) == (mode, open_)


@pytest.mark.parametrize(
    "fields",
    [
        {"moderation": "premoderate", "comments_open": False},
        {"moderation": "closed", "comments_open": True},
        {"moderation": "open"},
        {"moderation": 1},
        {"moderation": ["auto"]},
    ],
)
def test_bad_or_contradictory_modes_are_422_and_change_nothing(api, container, fields):
    assert put_article(api, SLUG, **BODY, moderation="premoderate").status_code == 201
    response = put_article(api, SLUG, **BODY, **fields)
    assert response.status_code == 422
    assert "moderation" in response.get_json()["errors"]
    assert stored(container) == ("premoderate", True)


def test_an_update_without_a_mode_keeps_premoderation_and_comments_open_false_closes(
    api, container
):
    put_article(api, SLUG, **BODY, moderation="premoderate")
    # A CMS re-sending the title does not lift an editor's pre-moderation.
    assert put_article(api, SLUG, **BODY).get_json()["moderation"] == "premoderate"
    assert put_article(api, SLUG, **BODY, comments_open=False).get_json()["moderation"] == "closed"
    # Reopened without naming a mode: automatic, as before the mode existed.
    assert put_article(api, SLUG, **BODY, comments_open=True).get_json()["moderation"] == "auto"


def test_premoderate_holds_a_clean_comment_with_the_reason(api, client, container, backend):
    put_article(api, SLUG, **BODY, moderation="premoderate")
    cid = submit(client, SLUG)
    assert pipeline.check_comment(container, cid) == "held"
    row = comment(container, cid)
    assert row.status == "held" and row.decision == "held"
    assert row.reasons[-1]["rule"] == "premoderation"
    assert row.reasons[-1]["score"] == 0
    assert "pre-moderated" in row.reasons[-1]["detail"]
    assert cid not in public_ids(container)
    record = api.get(f"/api/v1/admin/comments/{cid}", headers=ADMIN).get_json()
    assert "premoderation" in [r["rule"] for r in record["reasons"]]
    # What the moderator reads: the article is pre-moderated, and the checks would have
    # published it.
    summary = record["history"][-1]["note"]
    assert "pre-moderated" in summary and "would have published" in summary
    # A moderator publishes it as any held comment.
    approved = api.post(
        f"/api/v1/admin/comments/{cid}/actions", json={"action": "approve"}, headers=ADMIN
    )
    assert approved.status_code == 200
    assert cid in public_ids(container)


def test_premoderate_still_sends_spam_to_spam(make_container, akismet_server, backend):
    from services.dashboard import create_app

    container = make_container(
        akismet_api_key="test-key",
        akismet_blog_url="https://news.example",
        akismet_api_url=akismet_server.url,
        akismet_timeout=2,
    )
    admin = create_app(container).test_client()
    put_article(admin, SLUG, **BODY, moderation="premoderate")
    from services.api import create_app as api_app

    client = api_app(container).test_client()
    spam = submit(client, SLUG, author_name="viagra-test-123", author_email="v@example.org")
    ham = submit(client, SLUG, content="A calm and useful remark about the talks.")
    honeypot = submit(client, SLUG, website="http://bot.example", author_email="b@example.org")
    assert pipeline.check_comments(container, [spam, ham, honeypot]) == [
        "spam",
        "held",
        "discarded",
    ]
    assert "premoderation" not in [r["rule"] for r in comment(container, spam).reasons]
    assert comment(container, ham).reasons[-1]["rule"] == "premoderation"
    assert comment(container, ham).akismet["verdict"] == "ham"


def test_premoderate_leaves_a_held_comment_held_for_its_own_reasons(api, client, container):
    put_article(api, SLUG, **BODY, moderation="premoderate")
    cid = submit(client, SLUG, content="Visit http://a.example and http://b.example now")
    assert pipeline.check_comment(container, cid) == "held"
    rules = [r["rule"] for r in comment(container, cid).reasons]
    assert "links" in rules and "premoderation" not in rules


def test_closed_refuses_with_403(api, client, container, backend):
    put_article(api, SLUG, **BODY, moderation="closed")
    response = client.post(f"/api/v1/articles/{SLUG}/comments", json=GOOD)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    with container.stores.moderation() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_switching_modes_applies_to_the_next_decision(api, client, container, backend):
    put_article(api, SLUG, **BODY)
    first = submit(client, SLUG, content="First calm remark.", author_email="a@example.org")
    assert pipeline.check_comment(container, first) == "published"
    put_article(api, SLUG, **BODY, moderation="premoderate")
    # Submitted while auto, decided once pre-moderated: the mode at decision time counts.
    second = submit(client, SLUG, content="Second calm remark.", author_email="b@example.org")
    assert pipeline.check_comment(container, second) == "held"
    put_article(api, SLUG, **BODY, moderation="closed")
    assert client.post(f"/api/v1/articles/{SLUG}/comments", json=GOOD).status_code == 403
    put_article(api, SLUG, **BODY, moderation="auto")
    third = submit(client, SLUG, content="Third calm remark.", author_email="c@example.org")
    assert pipeline.check_comment(container, third) == "published"
    assert status_of(container, second) == "held"


def test_admin_article_list_filters_and_pages(api):
    for n in range(5):
        mode = "premoderate" if n % 2 else "auto"
        put_article(
            api, f"story-{n}", title=f"Story {n}", url=f"https://news.example/{n}", moderation=mode
        )
    pre = api.get("/api/v1/admin/articles?moderation=premoderate", headers=ADMIN).get_json()
    assert sorted(a["slug"] for a in pre["articles"]) == ["story-1", "story-3"]
    seen, cursor = [], None
    while True:
        url = "/api/v1/admin/articles?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, headers=ADMIN).get_json()
        seen += [a["slug"] for a in page["articles"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"story-{n}" for n in range(5)] and len(seen) == 5
    for bad in ("limit=0", "limit=x", "moderation=open", "cursor=zzz"):
        response = api.get(f"/api/v1/admin/articles?{bad}", headers=ADMIN)
        assert response.status_code == 422, bad


# --- the dashboard's Articles page -----------------------------------------------------


def test_articles_page_shows_modes_and_changes_one_with_csrf(moderator, api, container):
    put_article(api, SLUG, **BODY)
    put_article(
        api, "other", title="Other", url="https://news.example/other", moderation="premoderate"
    )
    page = moderator.get("/admin/articles")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-slug="{SLUG}" data-moderation="auto"' in html
    assert 'data-slug="other" data-moderation="premoderate"' in html
    assert "Pre-moderated" in html
    only = moderator.get("/admin/articles?moderation=premoderate").get_data(as_text=True)
    assert 'data-slug="other"' in only and f'data-slug="{SLUG}"' not in only

    # Without the CSRF token: refused, nothing changes.
    refused = moderator.client.post(
        f"/admin/articles/{SLUG}/moderation", data={"moderation": "premoderate"}
    )
    assert refused.status_code == 400
    assert stored(container) == ("auto", True)

    done = moderator.post_form(f"/admin/articles/{SLUG}/moderation", {"moderation": "premoderate"})
    assert done.status_code == 303
    assert stored(container) == ("premoderate", True)
    done = moderator.post_form(f"/admin/articles/{SLUG}/moderation", {"moderation": "closed"})
    assert stored(container) == ("closed", False)
    assert article_of(api)["comments_open"] is False
    bad = moderator.post_form(f"/admin/articles/{SLUG}/moderation", {"moderation": "nope"})
    assert bad.status_code == 303 and stored(container) == ("closed", False)
    with container.stores.moderation() as session:
        audits = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "article.moderation").order_by(AuditLog.id)
        ).all()
        assert [(a.target, a.detail) for a in audits] == [
            (SLUG, {"before": "auto", "after": "premoderate"}),
            (SLUG, {"before": "premoderate", "after": "closed"}),
        ]


def test_articles_page_needs_a_sign_in(dash_app):
    client = dash_app.test_client()
    assert client.get("/admin/articles").status_code == 302


def test_a_mode_change_is_in_the_activity_log(admin, api):
    put_article(api, SLUG, **BODY)
    admin.post_form(f"/admin/articles/{SLUG}/moderation", {"moderation": "premoderate"})
    page = admin.get("/admin/activity?action=article.moderation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "article.moderation" in html and SLUG in html


def test_premoderation_is_no_rule_on_the_quality_page(api, client, container):
    put_article(api, SLUG, **BODY, moderation="premoderate")
    cid = submit(client, SLUG)
    pipeline.check_comment(container, cid)
    api.post(f"/api/v1/admin/comments/{cid}/actions", json={"action": "approve"}, headers=ADMIN)
    rules = api.get("/api/v1/admin/quality", headers=ADMIN).get_json()["rules"]
    assert "premoderation" not in [row["rule"] for row in rules]
