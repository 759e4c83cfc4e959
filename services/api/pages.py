"""The demo article page: the article, its published comments a page at a time and a
comment form that works without JavaScript. Comment text is escaped by Jinja's
autoescaping, never raw; names are isolated in ``<bdi>`` and lose the directional controls
that would reorder the page around them (:func:`shared.textnorm.balance_bidi`)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from sqlalchemy import select

from services.http import container
from shared import formtoken
from shared.articles import DEMO_SLUG, BadCursor, comment_count, published_page
from shared.models import Article
from shared.textnorm import balance_bidi, encode_bidi

pages = Blueprint("pages", __name__, template_folder="templates")
pages.add_app_template_filter(balance_bidi, "balance_bidi")
pages.add_app_template_filter(encode_bidi, "encode_bidi")

# Comments a page, oldest first, keyset-paged with the public API's cursor (docs/contract.md §3).
PAGE_SIZE = 50

# The page's "N comments" is counted at most this often per article and api process:
# counting an article's published comments reads every one of them (46,731 took 35 ms on
# an idle PostgreSQL), so under a burst of comments the page's p99 was 134 ms against the
# list's 76 (bench.stack, 2026-12-07). The comments shown are read for every view.
COUNT_SECONDS = 1.0
_COUNTS_KEPT = 1024  # articles whose count a process keeps at most

_HEADERS = {
    # The one script is the comments widget, from this origin (GET /embed.js), which talks
    # to this origin only; no inline script, no other host.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _page(html: str, status: int, headers=None):
    response = make_response(html, status)
    response.headers.update(_HEADERS)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def render_article(
    slug: str,
    *,
    cursor: str | None = None,
    status: int = 200,
    form=None,
    errors=None,
    message=None,
    headers=None,
):
    """The article page at ``cursor`` (None: its first page of comments); also re-shown
    with messages when a form post is refused."""
    parley = container()
    with parley.stores.articles_read() as session:
        article = session.get(Article, slug)
        if article is None:
            return _page(render_template("not_found.html", slug=slug), 404)
        try:
            page = published_page(session, slug, PAGE_SIZE, cursor)
        except BadCursor:
            html = render_template("bad_page.html", article=article, first=_page_url(slug))
            return _page(html, 400)
        count = _count(session, slug)
    # A reply is shown in its parent's thread when the parent is on this page; otherwise
    # (its parent is on an earlier page, or no longer published) at the top, saying so.
    shown = {comment.id for comment in page.comments}
    children: dict[str | None, list] = {}
    for comment in page.comments:
        parent = comment.parent_id if comment.parent_id in shown else None
        children.setdefault(parent, []).append(comment)
    html = render_template(
        "article.html",
        article=article,
        roots=children.get(None, []),
        children=children,
        count=count,
        first_url=_page_url(slug) if cursor else None,
        next_url=_page_url(slug, page.next_cursor) if page.next_cursor else None,
        form=form or {},
        errors=errors or {},
        message=message if status != 200 else None,
        form_token=formtoken.issue(parley.settings.secret_key, slug),
        action=url_for("public_api.post_comment", slug=slug),
    )
    return _page(html, status, headers)


def _count(session, slug: str) -> int:
    """The article's published comments, counted again once :data:`COUNT_SECONDS` have
    passed since the last count (per app: each has its own stores)."""
    counts = current_app.extensions.setdefault("parley.page_counts", {})
    now = time.monotonic()
    kept = counts.get(slug)
    if kept is not None and now < kept[0]:
        return kept[1]
    count = comment_count(session, slug)
    if len(counts) >= _COUNTS_KEPT:
        counts.clear()  # a crawl through many articles: start again rather than grow
    counts[slug] = (now + COUNT_SECONDS, count)
    return count


def _page_url(slug: str, cursor: str | None = None) -> str:
    """A page of the article's comments, scrolled to them."""
    return url_for("pages.article", slug=slug, cursor=cursor, _anchor="comments")


@pages.get("/")
def index():
    """The demo article, or the list of articles if it was not seeded."""
    parley = container()
    with parley.stores.articles_read() as session:
        has_demo = session.get(Article, DEMO_SLUG) is not None
        articles = (
            []
            if has_demo
            else list(
                session.scalars(select(Article).order_by(Article.created_at.desc()).limit(50))
            )
        )
    if has_demo:
        return render_article(DEMO_SLUG, cursor=request.args.get("cursor") or None)
    return render_template("index.html", articles=articles)


@pages.get("/articles/<slug>")
def article(slug: str):
    return render_article(slug, cursor=request.args.get("cursor") or None)
