"""The demo article page: the article, its published comments and a comment form that
works without JavaScript. Comment text is escaped by Jinja's autoescaping, never raw."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, url_for
from sqlalchemy import select

from services.http import container
from shared import formtoken
from shared.articles import DEMO_SLUG, published_page
from shared.models import Article

pages = Blueprint("pages", __name__, template_folder="templates")

PAGE_SIZE = 100


def render_article(
    slug: str, *, status: int = 200, form=None, errors=None, message=None, headers=None
):
    """The article page; also re-shown with messages when a form post is refused."""
    parley = container()
    with parley.stores.articles_read() as session:
        article = session.get(Article, slug)
        if article is None:
            response = make_response(render_template("not_found.html", slug=slug), 404)
            return response
        page = published_page(session, slug, PAGE_SIZE, None)
        comments = page.comments
    children: dict[str | None, list] = {}
    for comment in comments:
        children.setdefault(comment.parent_id, []).append(comment)
    html = render_template(
        "article.html",
        article=article,
        roots=children.get(None, []),
        children=children,
        count=len(comments),
        form=form or {},
        errors=errors or {},
        message=message if status != 200 else None,
        form_token=formtoken.issue(parley.settings.secret_key, slug),
        action=url_for("public_api.post_comment", slug=slug),
    )
    response = make_response(html, status)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


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
        return render_article(DEMO_SLUG)
    return render_template("index.html", articles=articles)


@pages.get("/articles/<slug>")
def article(slug: str):
    return render_article(slug)
