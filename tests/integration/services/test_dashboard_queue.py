"""Dashboard queues: what a card shows, filters, actions one by one and in bulk, spam
waves and the live poll — all through the admin API's state machine."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.api import create_app as create_api
from services.dashboard import create_app
from shared import commenter
from shared.db import session_scope
from shared.models import CommentHistory, utcnow
from shared.moderation import pipeline
from shared.moderation import review as dq
from shared.moderation.lists import set_tunables
from shared.moderation.queries import Filters
from tests.support.factories import (
    LINKS,
    MOD_EMAIL,
    decided,
    held,
    public_ids,
    signed_in,
    status_of,
    submit,
)


def test_card_shows_what_a_moderator_needs(moderator, container, client, article):
    # the author's record: one comment published before, one marked spam, all three sent
    # with the reader's commenter token (the record is the token's, as the rules see it)
    token = commenter.issue(container.settings.secret_key, "regular-reader")
    ok = held(
        container,
        client,
        article,
        1,
        author_email="regular@example.org",
        content=LINKS + " one",
        commenter_token=token,
    )
    bad = held(
        container,
        client,
        article,
        2,
        author_email="regular@example.org",
        content=LINKS + " two",
        commenter_token=token,
    )
    cid = held(
        container,
        client,
        article,
        3,
        author_email="regular@example.org",
        author_name="Régulier",
        content=LINKS + " three",
        commenter_token=token,
    )
    # Someone else typing the same address earns no record of the regular's.
    stranger = held(
        container, client, article, 4, author_email="regular@example.org", content=LINKS + " four"
    )
    assert (
        moderator.post_json(f"/admin/api/comments/{ok}/action", {"action": "approve"}).status_code
        == 200
    )
    assert (
        moderator.post_json(f"/admin/api/comments/{bad}/action", {"action": "spam"}).status_code
        == 200
    )
    html = moderator.get("/admin/").get_data(as_text=True)
    card = html[html.index(f'id="c-{cid}"') :]
    card = card[: card.index("</article>")]
    assert "Régulier" in card and "regular@example.org" in card
    assert LINKS + " three" in card
    assert 'href="https://news.example/istanbul-talks"' in card and article in card
    assert '<span class="rule">links</span> <span class="pts">+1</span> contains 2 links' in card
    assert "Akismet: <b>skipped</b>" in card
    assert "127.0.0.1" in card and "Werkzeug/" in card
    assert "1 approved" in card and "1 spam" in card
    other = html[html.index(f'id="c-{stranger}"') :]
    other = other[: other.index("</article>")]
    assert "0 approved" in other and ">0 spam<" in other, other
    assert "<b>received</b> by api" in card and "<b>check</b> by worker" in card
    assert [a for a in ("approve", "spam", "reject") if f'value="{a}" class="act' in card] == [
        "approve",
        "spam",
        "reject",
    ]


def test_comment_text_and_names_are_escaped(moderator, container, client, article):
    payload = "<img src=x onerror=alert(1)> <script>window.__xss=1</script>"
    held(container, client, article, 1, content=LINKS + " " + payload, author_name="<b>bold</b>")
    html = moderator.get("/admin/").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>window" not in html and "<b>bold</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html


def test_queues_counts_and_title(moderator, container, client, article):
    h = held(container, client, article, 1)
    published = decided(container, client, article, content="A calm and kind remark.")
    spam = decided(
        container, client, article, content="Cheap viagra here", author_email="x@example.org"
    )
    assert status_of(container, spam) == "spam"
    page = moderator.get("/admin/").get_data(as_text=True)
    assert "<title>(1) Held · Parley</title>" in page
    assert (
        'data-count="held">1<' in page
        and 'data-count="spam">1<' in page
        and 'data-count="published">1<' in page
    )
    assert f'id="c-{h}"' in page and f'id="c-{published}"' not in page
    assert f'id="c-{spam}"' in moderator.get("/admin/queue/spam").get_data(as_text=True)
    published_page = moderator.get("/admin/queue/published").get_data(as_text=True)
    assert f'id="c-{published}"' in published_page
    card = published_page[published_page.index(f'id="c-{published}"') :]
    card = card[: card.index("</article>")]
    assert (
        'value="approve"' not in card and 'value="spam"' in card
    )  # only moves the state machine allows
    assert moderator.get("/admin/queue/rejected").status_code == 200
    assert moderator.get("/admin/queue/discarded").status_code == 404


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_filters(backend, moderator, container, client, article):
    a = held(container, client, article, 1, author_name="Ada Lovelace", content=LINKS + " engines")
    b = held(container, client, article, 2, author_name="Bob", content=LINKS + " gardens")

    def shown(query):
        html = moderator.get("/admin/queue/held?" + query).get_data(as_text=True)
        return {cid for cid in (a, b) if f'id="c-{cid}"' in html}

    assert shown("") == {a, b}
    assert shown("q=ENGINES") == {a}
    assert shown("author=lovelace") == {a}
    assert shown("email=READER2@example.org") == {b}
    assert shown("ip=127.0.0.1") == {a, b}
    assert shown("ip=10.9.9.9") == set()
    assert shown(f"article={article}") == {a, b}
    assert shown("article=other") == set()
    assert shown("q=100%25") == set()  # LIKE wildcards are literal


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_cursor_paging(backend, container, client, article):
    ids = [held(container, client, article, n) for n in range(3)]
    seen, cursor = [], None
    with container.stores.moderation() as session:
        while True:
            view = dq.queue_view(session, Filters(status="held"), cursor, limit=2)
            seen += [card.comment.id for card in view.cards]
            cursor = view.next_cursor
            if not cursor:
                break
    assert seen == list(reversed(ids))


def test_approve_by_json_publishes_and_409s_after(moderator, container, client, article):
    cid = held(container, client, article, 1)
    response = moderator.post_json(f"/admin/api/comments/{cid}/action", {"action": "approve"})
    assert response.status_code == 200
    body = response.get_json()
    assert (
        body["status"] == "published"
        and body["counts"]["held"] == 0
        and body["counts"]["published"] == 1
    )
    assert public_ids(container) == [cid]
    with container.stores.moderation() as session:
        entry = session.scalars(
            sa.select(CommentHistory).where(CommentHistory.action == "approve")
        ).one()
    assert (entry.actor, entry.from_status, entry.to_status) == (MOD_EMAIL, "held", "approved")
    again = moderator.post_json(f"/admin/api/comments/{cid}/action", {"action": "approve"})
    assert again.status_code == 409
    assert again.get_json()["detail"] == "Cannot approve a comment that is published."
    assert (
        moderator.post_json("/admin/api/comments/nope/action", {"action": "spam"}).status_code
        == 404
    )
    assert (
        moderator.post_json(f"/admin/api/comments/{cid}/action", {"action": "delete"}).status_code
        == 409
    )


def test_form_fallback_without_javascript(moderator, container, client, article):
    cid = held(container, client, article, 1)
    response = moderator.post_form(
        f"/admin/comments/{cid}/action", {"action": "spam", "next": "/admin/queue/held?q=x"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/admin/queue/held?q=x"
    assert status_of(container, cid) == "spam"
    page = moderator.get("/admin/queue/held").get_data(as_text=True)
    assert "marked as spam" in page
    moderator.post_form(
        f"/admin/comments/{cid}/action", {"action": "spam", "next": "https://evil.example/"}
    )
    assert "Cannot mark as spam a comment that is spam." in moderator.get("/admin/").get_data(
        as_text=True
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_bulk_selected(backend, moderator, container, client, article):
    ids = [held(container, client, article, n) for n in range(3)]
    moderator.post_json(f"/admin/api/comments/{ids[0]}/action", {"action": "approve"})
    response = moderator.post_json("/admin/api/bulk", {"action": "reject", "ids": ids + ["nope"]})
    body = response.get_json()
    assert response.status_code == 200
    assert body["done"] == 3 and set(body["statuses"]) == set(ids)
    assert body["failed"] == {"nope": "there is no such comment"}
    assert body["counts"]["rejected"] == 3 and public_ids(container) == []
    second = moderator.post_json("/admin/api/bulk", {"action": "spam", "ids": ids[:1]}).get_json()
    assert second["failed"] == {ids[0]: "cannot mark as spam a comment that is rejected"}
    bad = moderator.post_json(
        "/admin/api/bulk", {"action": "spam", "ids": ["x"] * (dq.MAX_BULK + 1)}
    )
    assert bad.status_code == 422
    assert moderator.post_json("/admin/api/bulk", {"action": "nuke", "ids": []}).status_code == 422


def test_bulk_all_matching_a_filter(moderator, container, client, article):
    ids = [held(container, client, article, n, author_name="Spammy") for n in range(3)]
    other = held(container, client, article, 9, author_name="Fine")
    listed = moderator.get("/admin/api/ids?status=held&author=spammy").get_json()
    assert (
        sorted(listed["ids"]) == sorted(ids) and listed["total"] == 3 and listed["capped"] is False
    )
    response = moderator.post_form(
        "/admin/bulk?scope=all",
        {"action": "spam", "status": "held", "author": "spammy", "next": "/admin/queue/held"},
    )
    assert response.status_code == 303
    assert [status_of(container, i) for i in ids] == ["spam"] * 3
    assert status_of(container, other) == "held"
    # the no-JavaScript selection form
    moderator.post_form("/admin/bulk", {"action": "approve", "status": "spam", "ids": ids[:2]})
    assert [status_of(container, i) for i in ids] == ["published", "published", "spam"]


def lenient(container):
    """Duplicates add up to spam on their own; keep a wave in the held queue."""
    with session_scope(container.stores.moderation) as session:
        set_tunables(session, container.settings, {"spam_threshold": "20"}, "test")
    container.policy_cache.invalidate()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_spam_wave_is_grouped_and_acted_on_as_one(backend, moderator, container, client, article):
    lenient(container)
    texts = [
        "Great deals on WATCHES!!! visit us",
        "great deals on watches, visit us",
        "Great deals on watches - visit us 2024",
        "GREAT DEALS ON WATCHES visit us!",
    ]
    wave = [
        held(container, client, article, n, content=t + " " + LINKS) for n, t in enumerate(texts)
    ]
    pair = [held(container, client, article, 10 + n, content="Same two " + LINKS) for n in range(2)]
    single = held(container, client, article, 20)
    html = moderator.get("/admin/").get_data(as_text=True)
    assert html.count('data-kind="wave"') == 1
    assert "4 similar" in html and "Spam all 4" in html
    assert all(f'id="c-{cid}"' not in html for cid in wave)  # shown as one card, not four
    assert all(f'id="c-{cid}"' in html for cid in pair + [single])  # two alike is not a wave
    assert "1 similar" in html  # … but each of the pair says it has a twin
    content_hash = re.search(r'data-kind="wave" data-hash="([0-9a-f]+)"', html).group(1)
    # "show all": the wave's members listed one by one
    members = moderator.get(f"/admin/queue/held?hash={content_hash}").get_data(as_text=True)
    assert all(f'id="c-{cid}"' in members for cid in wave) and 'data-kind="wave"' not in members
    ids = moderator.get(f"/admin/api/ids?status=held&hash={content_hash}").get_json()["ids"]
    assert sorted(ids) == sorted(wave)
    body = moderator.post_json("/admin/api/bulk", {"action": "spam", "ids": ids}).get_json()
    assert body["done"] == 4 and body["counts"]["spam"] == 4
    assert 'data-kind="wave"' not in moderator.get("/admin/").get_data(as_text=True)
    assert "4 similar" in moderator.get("/admin/queue/spam").get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_live_poll_brings_new_cards_counts_and_waves(
    backend, moderator, container, client, article
):
    lenient(container)
    since = (utcnow() - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    empty = moderator.get(f"/admin/api/poll?status=held&since={since}&waves=").get_json()
    assert empty["new"] == 0 and empty["html"] == "" and empty["counts"]["held"] == 0
    assert empty["waves_html"] is None  # unchanged: nothing to redraw
    cid = held(container, client, article, 1, content=LINKS + " <script>window.__xss=1</script>")
    body = moderator.get(f"/admin/api/poll?status=held&since={empty['since']}&waves=").get_json()
    assert body["new"] == 1 and body["ids"] == [cid] and body["counts"]["held"] == 1
    assert f'id="c-{cid}"' in body["html"] and "<script>window" not in body["html"]
    # a comment that was received before the page but decided after it still shows up
    late = submit(client, article, content=LINKS + " late", author_email="late@example.org")
    mark = body["since"]
    pipeline.check_comment(container, late)
    later = moderator.get(f"/admin/api/poll?status=held&since={mark}").get_json()
    assert later["ids"] == [late]
    for n in range(3):
        held(container, client, article, 30 + n, content="Wave text here " + LINKS)
    waves = moderator.get(f"/admin/api/poll?status=held&since={later['since']}&waves=").get_json()
    assert waves["new"] == 0 and "3 similar" in waves["waves_html"]
    assert moderator.get("/admin/api/poll?status=held&since=yesterday").status_code == 422


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_live_poll_says_which_shown_cards_were_decided_elsewhere(
    backend, moderator, container, client, article
):
    lenient(container)
    decided, waiting = (held(container, client, article, n) for n in range(2))
    since = (utcnow() - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    url = f"/admin/api/poll?status=held&since={since}&shown={decided},{waiting},{'f' * 32}"
    assert moderator.get(url).get_json()["gone"] == ["f" * 32]  # an id that is not there (purged)
    # another moderator approves one of the two cards this page shows
    response = moderator.post_json(f"/admin/api/comments/{decided}/action", {"action": "approve"})
    assert response.status_code == 200
    assert moderator.get(url).get_json()["gone"] == [decided, "f" * 32]
    none = moderator.get(f"/admin/api/poll?status=held&since={since}").get_json()
    assert none["gone"] == []
    published = f"/admin/api/poll?status=published&since={since}&shown={decided},{waiting}"
    assert moderator.get(published).get_json()["gone"] == [waiting]
    for bad in ("x;drop", ",".join(["a"] * 501), "a" * 33, "é"):
        response = moderator.get(f"/admin/api/poll?status=held&shown={bad}")
        assert response.status_code == 422 and "shown" in response.get_json()["errors"]


def test_akismet_feedback_follows_dashboard_corrections(
    akismet_container, client, article, redis_client
):
    app = create_app(akismet_container)
    moderator = signed_in(app, akismet_container, MOD_EMAIL, "moderator")
    api = create_api(akismet_container).test_client()
    spam = decided(
        akismet_container, api, article, author_email="akismet-guaranteed-spam@example.com"
    )
    assert status_of(akismet_container, spam) == "spam"
    assert (
        moderator.post_json(f"/admin/api/comments/{spam}/action", {"action": "approve"}).status_code
        == 200
    )
    assert redis_client.llen("feedback") == 1
