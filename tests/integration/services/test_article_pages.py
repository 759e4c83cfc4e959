"""The article page pages its comments (issue 22 item 12): without JavaScript, every
published comment is reachable by following the page's links, each on exactly one page,
with the comment count and the form on every page; a bad ``cursor`` is a 4xx page."""

from __future__ import annotations

import base64
import importlib
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.articles import decode_cursor
from shared.db import session_scope
from shared.models import PublishedComment

COMMENT_ID = re.compile(r'<li class="comment" id="comment-([0-9a-f]{32})"')


def publish_many(container, slug: str, n: int) -> list[str]:
    """``n`` published comments, oldest first: two share each minute (the cursor's tie on
    ``published_at`` falls inside pages and on their edges) and every third answers a
    comment 60 places earlier (its parent on an earlier page) or the one just before."""
    base = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [f"{i:032x}" for i in range(n)]
    with session_scope(container.stores.articles) as session:
        for i, cid in enumerate(ids):
            parent = None
            if i % 3 == 2:
                parent = ids[i - 60] if i >= 60 and i % 2 else ids[i - 1]
            session.add(
                PublishedComment(
                    id=cid,
                    article_slug=slug,
                    parent_id=parent,
                    author_name=f"Reader {i}",
                    author_url=None,
                    content=f"comment number {i}",
                    published_at=base + timedelta(minutes=i // 2),
                )
            )
    return ids


class Links(HTMLParser):
    """The page's links, ``{rel or text: href}``."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.hrefs: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("rel") in ("next", "first"):
            self.hrefs[attrs["rel"]] = attrs["href"]


def well_formed(href: str, slug: str) -> str | None:
    """The link's cursor (None for the first page); asserts the link is ours and sound."""
    parts = urlsplit(href)
    assert not parts.scheme and not parts.netloc, href
    assert parts.path == f"/articles/{slug}", href
    assert parts.fragment == "comments", href
    query = parse_qs(parts.query, strict_parsing=False)
    assert set(query) <= {"cursor"}, href
    if "cursor" not in query:
        return None
    (cursor,) = query["cursor"]
    decode_cursor(cursor)  # the public API's own cursor
    return cursor


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_every_comment_is_reachable_once_by_following_the_links(
    backend, client, container, article
):
    ids = publish_many(container, article, 250)
    seen: list[str] = []
    shown: dict[str, str] = {}  # each comment's own item, as shown
    url, pages = f"/articles/{article}", 0
    while url:
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, url
        pages += 1
        assert pages < 20, "the links go round in circles"
        on_page = COMMENT_ID.findall(html)
        assert on_page, f"an empty page at {url}"
        seen += on_page
        for cid in on_page:
            item = html[html.index(f'id="comment-{cid}"') :]
            shown[cid] = item[: item.index("</p>")]
        assert "250 comments" in html  # the article's count, not the page's
        assert 'class="comment-form"' in html and 'name="form_token"' in html
        links = Links(html).hrefs
        if pages > 1:
            assert well_formed(links["first"], article) is None
        url = links.get("next")
        if url:
            assert well_formed(url, article)
    assert len(seen) == len(set(seen)), "a comment on two pages"
    assert sorted(seen) == sorted(ids), "a comment on no page"
    assert pages == 5  # 50 a page
    # A reply whose parent is on an earlier page (65 answers 5) says so; one whose parent
    # is on its page (62 answers 61) is in the parent's thread and needs no such line.
    assert "In reply to an earlier comment" in shown[ids[65]]
    assert "In reply to" not in shown[ids[62]]


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "abc",
        "not base64 at all!",
        cursor_of("no separator"),
        cursor_of("not-a-date|x"),
        cursor_of("9999-12-31T23:59:59-14:00|x"),  # past year 9999 in UTC
        cursor_of("0001-01-01T00:00:00+14:00|x"),  # before year 1 in UTC
        base64.urlsafe_b64encode(b"\xff\xfe|x").decode(),
        cursor_of("2026-11-01T00:00:00+00:00|\x00"),
    ],
)
def test_a_bad_cursor_is_a_4xx_page_not_a_500(backend, client, container, article, cursor):
    publish_many(container, article, 3)
    page = client.get(f"/articles/{article}", query_string={"cursor": cursor})
    assert 400 <= page.status_code < 500, (cursor, page.status_code)
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert f'href="/articles/{article}#comments"' in html  # the way back to the first page


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cursor=st.text(max_size=60) | st.text(max_size=40).map(cursor_of))
def test_no_cursor_breaks_the_page(client, container, article, cursor):
    status = client.get(f"/articles/{article}", query_string={"cursor": cursor}).status_code
    assert status == 200 or 400 <= status < 500, (cursor, status)


def test_a_page_past_the_last_comment_leads_back(client, container, article):
    ids = publish_many(container, article, 2)
    late = cursor_of(f"{datetime(2030, 1, 1, tzinfo=UTC).isoformat()}|{ids[-1]}")
    page = client.get(f"/articles/{article}", query_string={"cursor": late})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and not COMMENT_ID.findall(html)
    assert "2 comments" in html and f'href="/articles/{article}#comments"' in html
    assert 'class="comment-form"' in html


def test_the_front_page_pages_the_demo_article(client, container):
    from shared.articles import DEMO_ARTICLE, DEMO_SLUG, upsert_article

    with session_scope(container.stores.articles) as session:
        upsert_article(session, DEMO_SLUG, DEMO_ARTICLE)
    publish_many(container, DEMO_SLUG, 60)
    html = client.get("/").get_data(as_text=True)
    assert len(COMMENT_ID.findall(html)) == 50
    second = client.get(Links(html).hrefs["next"]).get_data(as_text=True)
    assert len(COMMENT_ID.findall(second)) == 10


def test_the_count_is_read_at_most_once_a_second_but_the_comments_every_time(
    client, container, article, monkeypatch
):
    pages = importlib.import_module("services.api.pages")  # the module, not its blueprint
    clock = [1000.0]
    monkeypatch.setattr(pages.time, "monotonic", lambda: clock[0])
    publish_many(container, article, 2)
    assert "2 comments" in client.get(f"/articles/{article}").get_data(as_text=True)
    with session_scope(container.stores.articles) as session:
        session.add(
            PublishedComment(
                id="f" * 32,
                article_slug=article,
                author_name="Late reader",
                content="just published",
                published_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        )
    html = client.get(f"/articles/{article}").get_data(as_text=True)
    assert "2 comments" in html and "just published" in html  # the list is never stale
    clock[0] += pages.COUNT_SECONDS
    assert "3 comments" in client.get(f"/articles/{article}").get_data(as_text=True)
