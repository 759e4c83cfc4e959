"""The Articles page: every article with its moderation mode, which an editor changes
(auto, pre-moderated, closed) with a form, as the other dashboard forms (CSRF)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.dashboard.auth import actor, login_required
from services.http import container
from shared import accounts
from shared.articles import MODERATION_MODES, BadCursor, article_page, set_moderation
from shared.db import session_scope
from shared.models import Article

article_pages = Blueprint("articles", __name__, url_prefix="/admin")

PAGE = 100
MODE_LABELS = {
    "auto": "Automatic",
    "premoderate": "Pre-moderated",
    "closed": "Closed",
}


@article_pages.get("/articles")
@login_required
def articles():
    """Newest first; ``?moderation=`` shows one mode (the pre-moderated ones, say), ``?q=``
    finds a slug or title."""
    mode = request.args.get("moderation") or None
    if mode not in (None, *MODERATION_MODES):
        mode = None
    text = (request.args.get("q") or "").strip() or None
    try:
        with container().stores.articles_read() as session:
            rows, next_cursor = article_page(
                session, PAGE, request.args.get("cursor") or None, moderation=mode, text=text
            )
    except BadCursor:
        return redirect(url_for("articles.articles", moderation=mode, q=text), 303)
    return render_template(
        "articles.html",
        rows=rows,
        next_cursor=next_cursor,
        mode=mode,
        q=text or "",
        modes=MODE_LABELS,
        active="articles",
    )


@article_pages.post("/articles/<slug>/moderation")
@login_required
def set_mode(slug: str):
    """One article's moderation mode; recorded in the activity log."""
    mode = request.form.get("moderation", "")
    back = url_for("articles.articles", moderation=request.args.get("moderation") or None)
    if mode not in MODERATION_MODES:
        flash(f"Moderation must be one of {', '.join(MODE_LABELS.values())}.", "error")
        return redirect(back, 303)
    parley = container()
    with session_scope(parley.stores.articles) as session:
        article = session.get(Article, slug[:200])
        if article is None:
            flash(f"There is no article {slug!r}.", "error")
            return redirect(back, 303)
        before = article.moderation
        set_moderation(article, mode)
    if before != mode:
        with session_scope(parley.stores.moderation) as session:
            accounts.audit(session, actor(), "article.moderation", slug, before=before, after=mode)
        flash(f"{slug}: {MODE_LABELS[mode].lower()}. New comments follow it now.", "ok")
    else:
        flash(f"{slug} was already {MODE_LABELS[mode].lower()}.", "ok")
    return redirect(back + f"#a-{slug}", 303)
